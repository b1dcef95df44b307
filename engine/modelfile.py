"""Self-describing model files: one safetensors file per model.

Tensors: the network's state (``model.*``) and the per-mel-bin normalization
statistics (``normalizer.mean``, ``normalizer.std``). The safetensors header's
metadata holds ``format`` = "mmstudio-model", ``format_version`` and ``meta``,
a JSON object with the method, the architecture config, the feature config, the
class names, the class thresholds and the training provenance.

Loading parses only JSON and raw tensors: nothing is ever unpickled, so a file
a user hands us cannot run code. Anything else gives :class:`ModelFileError`.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .features import FeatureConfig, Normalizer
from .models import ModelConfig, SoundEventModel, count_parameters, upgrade_config_dict

FORMAT = "mmstudio-model"
FORMAT_VERSION = 1


from .errors import ModelFileError  # noqa: F401  (re-exported)


@dataclass
class ModelBundle:
    """A network with everything needed to use it on audio."""

    model: SoundEventModel
    feature_config: FeatureConfig
    classes: list[str]
    normalizer: Normalizer
    thresholds: np.ndarray | None = None
    provenance: dict = field(default_factory=dict)

    def __post_init__(self):
        n = self.model.config.n_classes
        if len(self.classes) != n:
            raise ValueError(f"{len(self.classes)} class names for a model of {n} classes")
        if self.thresholds is None:
            self.thresholds = np.full(n, 0.5, np.float32)
        self.thresholds = np.asarray(self.thresholds, np.float32).reshape(-1)
        if self.thresholds.shape != (n,):
            raise ValueError(f"thresholds must hold {n} values")

    @property
    def config(self) -> ModelConfig:
        return self.model.config

    def metadata(self) -> dict:
        """The JSON-serializable description stored in the file (and printed by ``mmnet info``)."""
        return {
            "method": self.config.method,
            "classes": list(self.classes),
            "thresholds": [round(float(t), 6) for t in self.thresholds],
            "model_config": self.config.to_dict(),
            "feature_config": self.feature_config.to_dict(),
            "parameters": count_parameters(self.model),
            "scales": [
                {"name": name, "hop_s": hop}
                for (name, _, _), hop in zip(self.model.scale_specs, self.model.scale_hops_s)
            ],
            "primary_scale": self.model.primary_index if self.model.scale_specs else None,
            "provenance": self.provenance,
        }


def save_model(bundle: ModelBundle, path: str | os.PathLike) -> Path:
    """Write ``bundle`` to ``path`` atomically (a temporary file renamed into place)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in bundle.model.state_dict().items()}
    tensors["normalizer.mean"] = torch.as_tensor(bundle.normalizer.mean)
    tensors["normalizer.std"] = torch.as_tensor(bundle.normalizer.std)
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "meta": json.dumps(bundle.metadata())}
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=meta)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a model file is an ordinary document
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_metadata(path: str | os.PathLike) -> dict:
    """The file's JSON metadata, reading only its header."""
    from safetensors import safe_open

    path = str(path)
    _check_file(path)
    try:
        with safe_open(path, framework="pt") as f:
            header = f.metadata() or {}
    except Exception as exc:
        raise ModelFileError(f"{path}: not a safetensors model file ({_short(exc)}); "
                             "model files are never unpickled") from None
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: a safetensors file, but not an M&m Studio model (no '{FORMAT}' header)")
    try:
        version = int(header.get("format_version", "0"))
    except ValueError:
        version = -1
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format version {header.get('format_version')!r} "
                             f"is not supported (this build reads version {FORMAT_VERSION})")
    try:
        meta = json.loads(header["meta"])
    except (KeyError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: damaged metadata ({_short(exc)})") from None
    if isinstance(meta, dict) and isinstance(meta.get("model_config"), dict):
        # files from before the two ATT readings: their "resnet-att" is now "resnet-att-class"
        meta["model_config"] = upgrade_config_dict(meta["model_config"])
        meta["method"] = meta["model_config"].get("method", meta.get("method"))
    return meta


def load_bundle(path: str | os.PathLike, device: str | torch.device = "cpu") -> ModelBundle:
    """Read a model file: never unpickles; raises :class:`ModelFileError` with the reason."""
    from safetensors.torch import load_file

    path = str(path)
    meta = read_metadata(path)
    try:
        tensors = load_file(path, device=str(device))
    except Exception as exc:
        raise ModelFileError(f"{path}: damaged tensor data ({_short(exc)})") from None
    try:
        config = ModelConfig.from_dict(meta["model_config"])
        feature_config = FeatureConfig.from_dict(meta["feature_config"])
        model = SoundEventModel(config)
        state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
        model.load_state_dict(state, strict=True)
        normalizer = Normalizer(tensors["normalizer.mean"].cpu().numpy(), tensors["normalizer.std"].cpu().numpy())
        bundle = ModelBundle(model.to(device).eval(), feature_config, list(meta["classes"]), normalizer,
                             np.asarray(meta.get("thresholds"), np.float32) if meta.get("thresholds") else None,
                             dict(meta.get("provenance") or {}))
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{path}: inconsistent model file ({_short(exc)})") from None
    return bundle


def _check_file(path: str) -> None:
    if not os.path.exists(path):
        raise ModelFileError(f"{path}: no such model file")
    if os.path.isdir(path):
        raise ModelFileError(f"{path}: is a folder, not a model file")
    if os.path.getsize(path) == 0:
        raise ModelFileError(f"{path}: the model file is empty")


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
