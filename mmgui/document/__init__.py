"""The workspace document, split by concern (see :mod:`.workspace`)."""
from .clips import Clip, ClipStore
from .models import PRETTY_METHODS, SLOTS, ModelEntry, ModelStore
from .spectrograms import FULL_RATE_PLAYBACK_S, LONG_PLAYBACK_SR, SpectrogramEntry, SpectrogramStore
from .workspace import Workspace

Document = Workspace     # the name views and tests have used since the first wave

__all__ = ["Clip", "ClipStore", "Document", "FULL_RATE_PLAYBACK_S", "LONG_PLAYBACK_SR", "ModelEntry",
           "ModelStore", "PRETTY_METHODS", "SLOTS", "SpectrogramEntry", "SpectrogramStore", "Workspace"]
