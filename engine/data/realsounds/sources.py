"""What the real-sound recipe reads: pinned Debian packages, and which of their files are which class.

Every rule is (label, package, regex on the path inside the package). A rule's named group
``g``, when present, names the original recording the file was cut from; otherwise the file
name with its digits removed does (``RailTrain1.wav`` .. ``RailTrain3.wav`` are one original),
which keeps numbered takes of one series in one split. Files that are cuts of one another
(waveform cross-correlation, see :mod:`.screen`) are merged into one original as well.
Paths inside a Qt resource container read ``CONTAINER.rcc!/inner/path``.

Licenses (read from each package's ``usr/share/doc/NAME/copyright``; per file for DEP-5
copyright files, see LICENSES.tsv in a built dataset): tuxpaint-stamps-default GPL-2,
tuxpaint-data GPL-2+, micropolis-data GPL-3+, lincity-ng-data GPL-2+ (sounds dual GPL /
CC-BY-SA-2.0), wesnoth-1.16-data GPL-2+, freedroidrpg-data GPL-2+, gcompris-qt-data per file
(CC-BY-3.0, CC0-1.0, Free Art License, GPL-3+ for the files used).
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
}

_TS = r"^usr/share/tuxpaint/stamps/"
_TD = r"^usr/share/tuxpaint/sounds/"
_GC = r"^usr/share/gcompris-qt/rcc/[^!/]+\.rcc!/gcompris/src/activities/"
_GCC = r"^usr/share/gcompris-qt/rcc/[^!/]+\.rcc!/gcompris/src/core/resource/sounds/"
_MP = r"^usr/share/games/micropolis/res/sounds/"
_LC = r"^usr/share/games/lincity-ng/sounds/"
_WN = r"^usr/share/games/wesnoth/1\.16/"
_FD = r"^usr/share/freedroidrpg/data/sound/effects/"
_FARM = _GC + r"explore_farm_animals/resource/animals/"
_MEM = _GC + r"memory-sound/resource/"

# label -> [(package, regex)]; the class order here is the class list's order
EVENT_RULES: dict[str, list[tuple[str, str]]] = {
    "dog_bark": [("tuxpaint-stamps-default", _TS + r"animals/mammals/dogs/dog\.ogg$"),
                 ("gcompris-qt-data", _FARM + r"dog\.ogg$"),
                 ("gcompris-qt-data", _MEM + r"(?P<g>LRBark)_\d_LA_cut\.ogg$")],
    "human_shout": [("wesnoth-1.16-data", _WN + r"data/core/sounds/(?P<g>human-female|human-old|human|dwarf|elf"
                                                r"|orc-small|orc)-(?:hit|die)-\d\.ogg$")],
    "bow_shot": [("wesnoth-1.16-data", _WN + r"data/core/sounds/(?P<g>bow|bow-puny|crossbow)\.ogg$"),
                 ("gcompris-qt-data", _GC + r"target/resource/arrow\.wav$")],
    "hammer": [("tuxpaint-stamps-default", _TS + r"household/tools/(?:hammer|mallet_metal)\.ogg$"),
               ("gcompris-qt-data", _GC + r"scalesboard/resource/metal_hit\.wav$"),
               ("gcompris-qt-data", _GC + r"mining/resource/pickaxe\.wav$"),
               ("lincity-ng-data", _LC + r"Blacksmith\d\.wav$")],
    "glass": [("freedroidrpg-data", _FD + r"Glass_Break\.ogg$"),
              ("tuxpaint-stamps-default", _TS + r"household/dishes/(?:glass|bottle)\.ogg$")],
    "pig": [("tuxpaint-stamps-default", _TS + r"animals/mammals/pig(?:_golden2?)?\.ogg$"),
            ("gcompris-qt-data", _FARM + r"pig\.ogg$")],
    "sheep_goat": [("tuxpaint-stamps-default", _TS + r"animals/mammals/bovines/(?:sheep|sheep_lamb|goat|mountaingoat"
                                                     r"|ram)\.ogg$"),
                   ("gcompris-qt-data", _FARM + r"sheep\.ogg$")],
    "duck": [("tuxpaint-stamps-default", _TS + r"animals/birds/(?:duck|drake)\.ogg$"),
             ("micropolis-data", _MP + r"(?P<g>quack)(?:quack)?\.wav$"),
             ("gcompris-qt-data", _FARM + r"duck\.ogg$")],
    "chicken": [("tuxpaint-stamps-default", _TS + r"animals/birds/(?:hen|rooster)\.ogg$"),
                ("gcompris-qt-data", _FARM + r"chickens\.ogg$")],
    "cow": [("tuxpaint-stamps-default", _TS + r"animals/mammals/bovines/(?:cow|cow_white|bull|bison)\.ogg$"),
            ("gcompris-qt-data", _FARM + r"cow\.ogg$")],
    "horse": [("tuxpaint-stamps-default", _TS + r"animals/mammals/equines/horse\.ogg$"),
              ("gcompris-qt-data", _FARM + r"horse\.ogg$"),
              ("wesnoth-1.16-data", _WN + r"data/core/sounds/(?P<g>horse)-(?:hit-\d|die)\.ogg$")],
    "bird_song": [("tuxpaint-stamps-default", _TS + r"animals/birds/(?:blackbird|lark|cuckoo|quetzal)\.ogg$"),
                  ("wesnoth-1.16-data", _WN + r"data/core/sounds/ambient/birds\d\.ogg$"),
                  ("micropolis-data", _MP + r"cuckoo\.wav$")],
    "insect_buzz": [("tuxpaint-stamps-default", _TS + r"animals/insects/(?:bee|hornet|mosquito)\.ogg$")],
    "bell": [("wesnoth-1.16-data", _WN + r"sounds/bell\.wav$"),
             ("tuxpaint-data", _TD + r"typewriterbell\.wav$"),
             ("gcompris-qt-data", _MEM + r"LRRing_01_LA\.ogg$"),
             ("gcompris-qt-data", _MEM + r"LRBuddhist_gong_05_LA\.ogg$")],
    "siren": [("micropolis-data", _MP + r"(?:siren|police)\.wav$"),
              ("tuxpaint-stamps-default", _TS + r"vehicles/emergency/firetruck\.ogg$")],
    "engine": [("gcompris-qt-data", _MEM + r"LRStartAndStopCarEngine1LACut\.ogg$"),
               ("gcompris-qt-data", _GC + r"traffic/resource/car\.wav$"),
               ("gcompris-qt-data", _GC + r"guessnumber/resource/helicopter\.wav$"),
               ("micropolis-data", _MP + r"ignition\.wav$")],
    "train": [("lincity-ng-data", _LC + r"RailTrain\d\.wav$"),
              ("gcompris-qt-data", _MEM + r"LRTrain_slowing_down_01_LA_cut\.ogg$"),
              ("gcompris-qt-data", _GC + r"railroad/resource/sounds/train\.wav$")],
    "explosion": [("micropolis-data", _MP + r"(?P<g>explosion)-(?:high|low)\.wav$"),
                  ("wesnoth-1.16-data", _WN + r"data/core/sounds/explosion\.ogg$"),
                  ("lincity-ng-data", _LC + r"RocketExplosion1\.wav$")],
}

# classes whose recordings hold several separate sounds (barks, quacks, shots, hits): each
# recording is cut at its silent gaps into single events (all parts stay one original)
SPLIT_AT_GAPS = {"dog_bark", "human_shout", "bow_shot", "hammer", "glass", "pig", "sheep_goat", "duck"}

# background kind -> [(package, regex)]: real ambiences that hold none of the classes above
BACKGROUND_RULES: dict[str, list[tuple[str, str]]] = {
    "traffic": [("lincity-ng-data", _LC + r"(?:TraficHigh|TraficLow)\d\.wav$"),
                ("micropolis-data", _MP + r"heavytraffic\.wav$")],
    "crowd": [("lincity-ng-data", _LC + r"SportsCroud\d\.wav$")],
    "water": [("lincity-ng-data", _LC + r"Water\d\.wav$"),
              ("gcompris-qt-data", _GCC + r"water\.wav$"),
              ("gcompris-qt-data", _GC + r"canal_lock/resource/water_fill\.wav$")],
    "rain": [("gcompris-qt-data", _MEM + r"LRRain_in_garden_01_LA_cut\.ogg$")],
    "fire": [("wesnoth-1.16-data", _WN + r"data/core/sounds/ambient/campfire\.ogg$")],
}
