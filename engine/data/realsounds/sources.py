"""What the real-sound recipe reads: pinned Debian packages, and which of their files are which class.

Every rule is (package, regex on the path inside the package) or (package, regex, original).
The original recording a file was cut from (the split unit) is, in this order: the rule's third
element; the regex's named group ``g`` when present; otherwise the file name with its digits
removed (``RailTrain1.wav`` .. ``RailTrain3.wav`` are one original), which keeps numbered takes
of one series in one split. Files that are cuts of one another (waveform cross-correlation,
see :mod:`.screen`) are merged into one original as well. Paths inside a container read
``CONTAINER!/inner/path`` (Qt resources ``.rcc``, OpenTTD sound sets ``.cat``).

Licenses (read from each package's ``usr/share/doc/NAME/copyright``; per file for DEP-5
copyright files, see LICENSES.tsv in a built dataset): tuxpaint-stamps-default GPL-2,
tuxpaint-data GPL-2+, micropolis-data GPL-3+, lincity-ng-data GPL-2+ (sounds dual GPL /
CC-BY-SA-2.0), wesnoth-1.16-data GPL-2+, freedroidrpg-data GPL-2+, gcompris-qt-data per file
(CC-BY-3.0, CC0-1.0, Free Art License, GPL-3+ for the files used); added in recipe version 2:
openttd-opensfx CC-BY-SA-3.0 (the collection; single sounds CC-BY-3.0 or CC0-1.0, credited in
the package's readme.txt), hedgewars-data GFDL-1.3 (its Data/Sounds), widelands-data GPL-2+.
"""
from __future__ import annotations

# name -> (version, license of the files used when the copyright file is not per-file)
PACKAGES: dict[str, tuple[str, str]] = {
    "tuxpaint-stamps-default": ("2022.06.04-1", "GPL-2"),
    "tuxpaint-data": ("1:0.9.28-sdl2-1", "GPL-2+"),
    "gcompris-qt-data": ("3.1-2", "GPL-3+"),
    "micropolis-data": ("0.0.20071228-10", "GPL-3+"),
    "lincity-ng-data": ("2.9~git20150314-5", "GPL-2+ or CC-BY-SA-2.0"),
    "wesnoth-1.16-data": ("1:1.16.9-1", "GPL-2+"),
    "freedroidrpg-data": ("1.0-1", "GPL-2+"),
    "openttd-opensfx": ("1.0.3-2", "CC-BY-SA-3.0"),
    "hedgewars-data": ("1.0.2-6", "GFDL-1.3"),
    "widelands-data": ("2:1.1-3", "GPL-2+"),
}

# package -> (regex, replacement) turning an installed path into the path its DEP-5 copyright
# file names (the part after '!' for files inside a container); a package listed here is
# matched against whole globs (``anchored``), the others by the glob's tail
SOURCE_PATHS: dict[str, tuple[str, str]] = {
    "gcompris-qt-data": (r"^/gcompris/", ""),
    "hedgewars-data": (r"^usr/share/games/hedgewars/", "share/hedgewars/"),
    "widelands-data": (r"^usr/share/games/widelands/", ""),
    "openttd-opensfx": (r"^/", ""),
}
ANCHORED = {"hedgewars-data", "widelands-data", "openttd-opensfx"}


def _under(package: str, folder: str):
    """The rule maker for files under ``folder`` (a regex, from the path's start) of ``package``:
    ``tail`` (a regex for the rest of the path) [, original] -> (package, folder + tail[, original])."""
    return lambda tail, *original: (package, folder + tail, *original)


_GC = r"^usr/share/gcompris-qt/rcc/[^!/]+\.rcc!/gcompris/src/"
_WN = r"^usr/share/games/wesnoth/1\.16/"
_ts = _under("tuxpaint-stamps-default", r"^usr/share/tuxpaint/stamps/")
_td = _under("tuxpaint-data", r"^usr/share/tuxpaint/sounds/")
_gc = _under("gcompris-qt-data", _GC + "activities/")
_gcc = _under("gcompris-qt-data", _GC + "core/resource/sounds/")
_mem = _under("gcompris-qt-data", _GC + "activities/memory-sound/resource/")
_mp = _under("micropolis-data", r"^usr/share/games/micropolis/res/sounds/")
_lc = _under("lincity-ng-data", r"^usr/share/games/lincity-ng/sounds/")
_wn = _under("wesnoth-1.16-data", _WN)
_wns = _under("wesnoth-1.16-data", _WN + "data/core/sounds/")
_fd = _under("freedroidrpg-data", r"^usr/share/freedroidrpg/data/sound/effects/")
_hw = _under("hedgewars-data", r"^usr/share/games/hedgewars/Data/Sounds/")
_wl = _under("widelands-data", r"^usr/share/games/widelands/data/")


def _os(numbers: str, original: str) -> tuple[str, str, str]:
    """OpenSFX sounds osfx_NN.wav (``numbers``: a regex alternation of NN) cut from the source
    recording ``original`` (named in each sound's description and the package's readme.txt)."""
    return ("openttd-opensfx", r"^usr/share/games/openttd/baseset/opensfx/opensfx\.cat!/src/wav/osfx_(?:"
            + numbers + r")\.wav$", "openttd-opensfx:" + original)


def _farm(animal: str) -> tuple[str, str]:
    """GCompris' farm animal recording ANIMAL.ogg."""
    return _gc(f"explore_farm_animals/resource/animals/{animal}" + r"\.ogg$")


# label -> [(package, regex[, original])]; the class order here is the class list's order
EVENT_RULES: dict[str, list[tuple[str, ...]]] = {
    "dog_bark": [_ts(r"animals/mammals/dogs/dog\.ogg$"), _farm("dog"), _mem(r"(?P<g>LRBark)_\d_LA_cut\.ogg$")],
    "human_shout": [_wns(r"(?P<g>human-female|human-old|human|dwarf|elf|orc-small|orc)-(?:hit|die)-\d\.ogg$"),
                    # one voice pack (speaker) per original; the Robot pack is processed, not a voice
                    _hw(r"voices/(?P<g>(?!Robot/)\w+)/(?:Ooff\d|Ow\d|Ouch|Firepunch\d)\.ogg$")],
    # the '-miss' takes of bow-puny and crossbow share their shot (NCC 0.56, 0.60): one original each;
    # bow-miss does not share bow's (NCC 0.13): an original of its own
    "bow_shot": [_wns(r"(?P<g>bow|bow-puny|crossbow)\.ogg$"), _wns(r"(?P<g>bow-puny|crossbow)-miss\.ogg$"),
                 _wns(r"bow-miss\.ogg$"), _gc(r"target/resource/arrow\.wav$")],
    "hammer": [_ts(r"household/tools/(?:hammer|mallet_metal)\.ogg$"), _gc(r"scalesboard/resource/metal_hit\.wav$"),
               _gc(r"mining/resource/pickaxe\.wav$"), _lc(r"Blacksmith\d\.wav$"),
               _wl(r"sound/hammering/(?:hammering_\d\d|geologist_hammer)\.ogg$"), _hw(r"hammer\.ogg$"),
               _os("39", "in-the-smithy-2")],
    "glass": [_fd(r"Glass_Break\.ogg$"), _ts(r"household/dishes/(?:glass|bottle)\.ogg$")],
    "pig": [_ts(r"animals/mammals/pig(?:_golden2?)?\.ogg$"), _farm("pig"), _wl(r"sound/animals/boar\.ogg$")],
    "sheep_goat": [_ts(r"animals/mammals/bovines/(?:sheep|sheep_lamb|goat|mountaingoat|ram)\.ogg$"), _farm("sheep"),
                   _wl(r"sound/farm/sheep_\d\d\.ogg$")],
    "duck": [_ts(r"animals/birds/(?:duck|drake)\.ogg$"), _mp(r"(?P<g>quack)(?:quack)?\.wav$"), _farm("duck"),
             _wl(r"world/critters/duck/duck_\d\d\.ogg$")],
    "chicken": [_ts(r"animals/birds/(?:hen|rooster)\.ogg$"), _farm("chickens")],
    "cow": [_ts(r"animals/mammals/bovines/(?:cow|cow_white|bull|bison)\.ogg$"), _farm("cow"),
            _wl(r"sound/farm/ox_\d\d\.ogg$"), _os("37", "cow-moan-2")],
    "horse": [_ts(r"animals/mammals/equines/horse\.ogg$"), _farm("horse"), _wns(r"(?P<g>horse)-(?:hit-\d|die)\.ogg$"),
              _wl(r"sound/farm/horse_\d\d\.ogg$"), _os("38", "horse-neigh")],
    "bird_song": [_ts(r"animals/birds/(?:blackbird|lark|cuckoo|quetzal)\.ogg$"), _wns(r"ambient/birds\d\.ogg$"),
                  _mp(r"cuckoo\.wav$"), _wl(r"sound/animals/bird\d_\d\d\.ogg$"),
                  _os("66|72", "spacejoe-bird-noise")],
    "insect_buzz": [_ts(r"animals/insects/(?:bee|hornet|mosquito)\.ogg$"), _hw(r"bee\.ogg$")],
    "bell": [_wn(r"sounds/bell\.wav$"), _td(r"typewriterbell\.wav$"), _mem(r"LRRing_01_LA\.ogg$"),
             _mem(r"LRBuddhist_gong_05_LA\.ogg$"), _os("14", "rrcrossing")],
    "siren": [_mp(r"(?:siren|police)\.wav$"), _ts(r"vehicles/emergency/firetruck\.ogg$")],
    "engine": [_mem(r"LRStartAndStopCarEngine1LACut\.ogg$"), _gc(r"traffic/resource/car\.wav$"),
               _gc(r"guessnumber/resource/helicopter\.wav$"), _mp(r"ignition\.wav$"),
               _os("25", "truck-start-file0375"), _os("28", "bus-t_start1"), _os("08", "cessna-start-stop"),
               _os("24", "helicopter-lorenzosu")],
    "train": [_lc(r"RailTrain\d\.wav$"), _mem(r"LRTrain_slowing_down_01_LA_cut\.ogg$"),
              _gc(r"railroad/resource/sounds/train\.wav$"), _os("04|05", "steam-train-horn-01"),
              _os("10", "locomotive-1-distant-horn"), _os("65", "metro"), _os("71", "train-passby")],
    "explosion": [_mp(r"(?P<g>explosion)-(?:high|low)\.wav$"), _wns(r"explosion\.ogg$"),
                  _lc(r"RocketExplosion1\.wav$")],
}

# classes whose recordings hold several separate sounds (barks, quacks, shots, hits): each
# recording is cut at its silent gaps into single events (all parts stay one original)
SPLIT_AT_GAPS = {"dog_bark", "human_shout", "bow_shot", "hammer", "glass", "pig", "sheep_goat", "duck"}

# background kind -> [(package, regex[, original])]: real ambiences that hold none of the classes above
BACKGROUND_RULES: dict[str, list[tuple[str, ...]]] = {
    "traffic": [_lc(r"(?:TraficHigh|TraficLow)\d\.wav$"), _mp(r"heavytraffic\.wav$")],
    "crowd": [_lc(r"SportsCroud\d\.wav$"), _os("29", "approx-850-enthusiast-audience")],
    "water": [_lc(r"Water\d\.wav$"), _gcc(r"water\.wav$"), _gc(r"canal_lock/resource/water_fill\.wav$")],
    "rain": [_mem(r"LRRain_in_garden_01_LA_cut\.ogg$")],
    "fire": [_wns(r"ambient/campfire\.ogg$")],
    "wind": [_os("52|57", "wind1")],
}
