"""Models of the paper, selectable by name.

``METHODS`` lists them; ``build(name, n_classes, **config)`` returns a
:class:`SoundEventModel` at the paper's configuration unless told otherwise.
Any :class:`ModelConfig` field can be passed as a keyword; ``variant="authors-code"``
switches on the departures of the authors' public code listed in ``VARIANTS``
(``variant="label-specific"``: their loss with label-specific attention). A
configuration that would leave the attention untrained is a :class:`ConfigError`.

Two readings of ResNet-ATT: ``resnet-att`` is the seed paper's (one label-agnostic
a_t per segment), ``resnet-att-class`` Xu et al. 2017a's (one attention per class).
"""
from __future__ import annotations

import dataclasses

from ..errors import ConfigError

from .network import (CONFIG_VERSION, METHOD_TABLE, VARIANTS, ModelConfig, SoundEventModel, count_parameters,
                      upgrade_config_dict)
from .output import ModelOutput, ScaleOutput

METHODS: tuple[str, ...] = tuple(METHOD_TABLE)


def make_config(name: str, n_classes: int, **config) -> ModelConfig:
    """The :class:`ModelConfig` of method ``name`` with overrides applied."""
    if name not in METHOD_TABLE:
        raise ConfigError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
    variant = config.pop("variant", "paper")
    if variant not in VARIANTS:
        raise ConfigError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    settings = dict(VARIANTS[variant])
    if name == "mmnet-ms":
        settings["multiscale"] = True
    settings.update(config)
    known = {f.name for f in dataclasses.fields(ModelConfig)} - {"method", "n_classes", "variant", "config_version"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"unknown model option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                         f"choose from {', '.join(sorted(known | {'variant'}))}")
    cfg = ModelConfig(method=name, n_classes=n_classes, variant=variant, **settings)
    cfg.check_trainable()
    return cfg


def build(name: str, n_classes: int, **config) -> SoundEventModel:
    """A freshly initialized model of method ``name`` for ``n_classes`` classes."""
    return SoundEventModel(make_config(name, n_classes, **config))


def from_config(config: ModelConfig) -> SoundEventModel:
    return SoundEventModel(config)


__all__ = ["CONFIG_VERSION", "upgrade_config_dict", "METHODS", "VARIANTS", "ModelConfig", "ModelOutput", "ScaleOutput", "SoundEventModel",
           "build", "make_config", "from_config", "count_parameters"]
