"""One network class for every method of the paper's Table 1 and Figure 3.

A method is a backbone (ConvNet or ResNet), a clip path and the scales that
carry segment-level heads. Building all methods from the same parts keeps the
comparison fair: they differ only where the paper says they differ.

=============  =====================================================================
method         clip path / segment level
=============  =====================================================================
convnet-mean   ConvNet, mean pooling + FC stack; no segment level
resnet-mean    ResNet, mean pooling + FC stack; no segment level
resnet-max     ResNet, max pooling + FC stack; no segment level
resnet-wlat    FC stack on every segment, clip = mean of segment probabilities (Fig. 3a)
resnet-slat    FC stack on every segment trained against the clip labels (Fig. 3b); clip = mean
resnet-plat    macro head; a segment head trained on labels extrapolated from the
               macro classifier's class activation map (Fig. 3c)
resnet-att     class-wise attention pooling of segment predictions (Xu et al. 2017a, Fig. 3d)
mmnet          macro head + micro head (det + m-head attention) on the last map,
               ensemble prediction eq. 9 (Fig. 3e)
mmnet-ms       micro heads on every stage and on L-1 transposed-conv upsampled
               maps of the last stage: 2L-1 scales (eq. 10, Fig. 3f)
=============  =====================================================================
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch
from torch import nn

from ..errors import ConfigError

from .backbones import build_backbone
from .heads import ClassAttentionHead, MacroHead, MicroHead, mlp_1x1
from .output import ModelOutput, ScaleOutput

# method -> (backbone, kind)
METHOD_TABLE = {
    "convnet-mean": ("convnet", "pool"),
    "resnet-mean": ("resnet", "pool"),
    "resnet-max": ("resnet", "pool"),
    "resnet-wlat": ("resnet", "wlat"),
    "resnet-slat": ("resnet", "slat"),
    "resnet-plat": ("resnet", "plat"),
    "resnet-att": ("resnet", "att"),
    "mmnet": ("resnet", "mmnet"),
    "mmnet-ms": ("resnet", "mmnet"),
}

# Named departures of the authors' public code from the paper (shared/paper/NOTES.md).
VARIANTS = {
    "paper": dict(clip_loss_on="macro", ensemble_mode="prob", detach_attention=False),
    "authors-code": dict(clip_loss_on="ensemble", ensemble_mode="logit", detach_attention=True),
}


@dataclass
class ModelConfig:
    """Architecture and training-objective settings; saved in every model file.

    method: one of METHODS. n_classes: C.
    n_mels: input channels. frame_hop_s: seconds per input frame (sets each scale's hop_s).
    channels / stem: backbone widths (None = the backbone's paper default). pool: max-pool factor between stages.
    fc_hidden, fc_layers: macro FC stack (1024 x 2 in the paper).
    micro_hidden: width of the hidden FC layer of f_det and f_att (0 = a single
        layer as in the authors' code). heads: m, attention heads (384).
    multiscale: micro heads on every stage and upsampled maps (mmnet-ms).
    mu: eq. 9 weight of the macro prediction in the ensemble. ensemble: use eq. 9 at inference.
    ensemble_mode: "prob" (paper: mix probabilities) or "logit" (authors' code: mix logits).
    clip_loss_on: "macro" (paper, eq. 8) or "ensemble" (authors' code).
    detach_attention: stop gradients through a_t in the micro loss (authors' code).
    attention_scale: "heads" (eq. 6 as written: a_t sums to m) or "unit" (a_t / m sums to 1) in the micro loss.
    micro_weight: lambda of eq. 8. class_weight_beta: beta of eq. 11 (0 disables class weights).
    plat_threshold: PLAT extrapolates a segment label where CAM >= threshold * its maximum.
    """

    method: str = "mmnet"
    n_classes: int = 17
    n_mels: int = 128
    frame_hop_s: float = 492 / 44100
    channels: tuple | None = None
    stem: int = 128
    pool: int = 4
    fc_hidden: int = 1024
    fc_layers: int = 2
    micro_hidden: int = 384
    heads: int = 384
    multiscale: bool = False
    mu: float = 0.5
    ensemble: bool = True
    ensemble_mode: str = "prob"
    clip_loss_on: str = "macro"
    detach_attention: bool = False
    attention_scale: str = "heads"
    micro_weight: float = 1.0
    class_weight_beta: float = 0.3
    plat_threshold: float = 0.5
    variant: str = "paper"

    def __post_init__(self):
        if self.method not in METHOD_TABLE:
            raise ConfigError(f"unknown method {self.method!r}; choose from {', '.join(METHOD_TABLE)}")
        if self.channels is not None:
            self.channels = tuple(int(c) for c in self.channels)
        for name, allowed in (("ensemble_mode", ("prob", "logit")), ("clip_loss_on", ("macro", "ensemble")),
                              ("attention_scale", ("heads", "unit"))):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")
        if not 0.0 <= self.mu <= 1.0:
            raise ConfigError("mu must lie in [0, 1]")
        if self.n_classes < 1:
            raise ConfigError("n_classes must be at least 1")

    @property
    def backbone(self) -> str:
        return METHOD_TABLE[self.method][0]

    @property
    def kind(self) -> str:
        return METHOD_TABLE[self.method][1]

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["channels"] = list(self.channels) if self.channels is not None else None
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**data)


class SoundEventModel(nn.Module):
    """forward(features B x n_mels x T) -> :class:`ModelOutput`.

    T need not be a multiple of the total stride: the input is padded on the
    right with its last frame, and segment outputs beyond the input are cut.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = cfg = config
        kind = cfg.kind
        multiscale = cfg.multiscale and kind == "mmnet"
        bb_kw = {"pool": cfg.pool}
        if cfg.channels is not None:
            bb_kw["channels"] = cfg.channels
        if cfg.backbone == "resnet":
            bb_kw["stem"] = cfg.stem
        self.backbone = build_backbone(cfg.backbone, cfg.n_mels, stage_outputs=multiscale, **bb_kw)
        chans, strides = self.backbone.channels, self.backbone.strides
        C = cfg.n_classes
        k_last = chans[-1]
        self.macro = None
        if kind in ("pool", "plat", "mmnet"):
            pool = "max" if cfg.method.endswith("-max") else "mean"
            self.macro = MacroHead(k_last, C, cfg.fc_hidden, cfg.fc_layers, pool)
        if kind in ("wlat", "slat"):
            # the same FC stack as the macro head, applied to every segment (same parameter count as ResNet)
            self.segment_cls = mlp_1x1(k_last, cfg.fc_hidden, cfg.fc_layers, C)
        if kind == "plat":
            self.plat_det = nn.Conv1d(k_last, C, 1)
        if kind == "att":
            self.att_head = ClassAttentionHead(k_last, C, cfg.fc_hidden, cfg.fc_layers)
        # scales: (name, channels, stride) of the maps that carry micro heads
        self.upsamplers = nn.ModuleList()
        if kind == "mmnet":
            if multiscale:
                scales = [(f"stage{i + 1}", c, s) for i, (c, s) in enumerate(zip(chans, strides))]
                for j in range(len(chans) - 1):
                    self.upsamplers.append(nn.Sequential(
                        nn.ConvTranspose1d(k_last, k_last, kernel_size=cfg.pool, stride=cfg.pool, bias=False),
                        nn.BatchNorm1d(k_last), nn.ReLU(inplace=True)))
                    scales.append((f"up{j + 1}", k_last, strides[-2 - j]))
            else:
                scales = [(f"stage{len(chans)}", k_last, strides[-1])]
            self.micro = nn.ModuleList(MicroHead(c, C, cfg.micro_hidden, cfg.heads) for _, c, _ in scales)
            self.scale_specs = scales
        else:
            self.scale_specs = [(f"stage{len(chans)}", k_last, strides[-1])] if kind in (
                "wlat", "slat", "plat", "att") else []
        self.stride = strides[-1]
        self._init_weights()

    def _init_weights(self):
        """He initialization (the paper follows He et al. 2016)."""
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm1d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @property
    def scale_hops_s(self) -> list[float]:
        """Seconds per segment at each scale, in output order."""
        return [s * self.config.frame_hop_s for _, _, s in self.scale_specs]

    def forward(self, feats: torch.Tensor, ensemble: bool | None = None) -> ModelOutput:
        """ensemble: compute eq. 9 (None: as configured; False: "M&mnet without EP")."""
        cfg = self.config
        use_ensemble = cfg.ensemble if ensemble is None else bool(ensemble)
        kind = cfg.kind
        t_in = feats.shape[-1]
        pad = (-t_in) % self.stride
        if pad:
            feats = torch.cat([feats, feats[..., -1:].expand(*feats.shape[:-1], pad)], dim=-1)
        maps = self.backbone(feats)
        x = maps[-1]
        hop = cfg.frame_hop_s

        def valid(stride: int) -> int:  # segments that overlap the unpadded input
            return -(-t_in // stride)

        if kind == "pool":
            logits = self.macro(x)
            return ModelOutput(clip_probs=torch.sigmoid(logits), clip_logits=logits)

        name, _, stride = self.scale_specs[-1] if kind != "mmnet" else (None, None, None)
        if kind in ("wlat", "slat"):
            seg_logits = self.segment_cls(x).transpose(1, 2)[:, :valid(stride)]
            seg_probs = torch.sigmoid(seg_logits)
            scale = ScaleOutput(seg_probs, stride * hop, name, segment_logits=seg_logits)
            return ModelOutput(clip_probs=seg_probs.mean(dim=1), scales=[scale], primary_scale=0)

        if kind == "plat":
            logits = self.macro(x)
            seg_logits = self.plat_det(x).transpose(1, 2)[:, :valid(stride)]
            scale = ScaleOutput(torch.sigmoid(seg_logits), stride * hop, name, segment_logits=seg_logits)
            out = ModelOutput(clip_probs=torch.sigmoid(logits), clip_logits=logits, scales=[scale], primary_scale=0)
            if self.training:
                # class activation map of the macro classifier on each segment (no gradient)
                with torch.no_grad():
                    out.scales[0].class_attention = torch.sigmoid(self.macro.segment_logits(x))[:, :valid(stride)]
            return out

        if kind == "att":
            seg_logits, att, clip = self.att_head(x)
            n = valid(stride)
            seg_logits, att = seg_logits[:, :n], att[:, :n]
            scale = ScaleOutput(torch.sigmoid(seg_logits), stride * hop, name, segment_logits=seg_logits,
                                attention=att.mean(dim=2), class_attention=att)
            return ModelOutput(clip_probs=clip, scales=[scale], primary_scale=0)

        # M&mnet / M&mnet-MS
        macro_logits = self.macro(x)
        if cfg.multiscale:
            feature_maps = list(maps)
            up = x
            for upsample in self.upsamplers:
                up = upsample(up)
                feature_maps.append(up)
        else:
            feature_maps = [x]
        scales = []
        for (name, _, stride), head, fmap in zip(self.scale_specs, self.micro, feature_maps):
            seg_logits, head_logits, a = head(fmap)
            n = valid(stride)
            if n < seg_logits.shape[1]:
                # attention renormalized over the segments that hold real input
                head_logits = head_logits[:, :, :n]
                a = torch.softmax(head_logits, dim=2).sum(dim=1)
                seg_logits = seg_logits[:, :n]
            scales.append(ScaleOutput(torch.sigmoid(seg_logits), stride * hop, name,
                                      segment_logits=seg_logits, attention=a, head_logits=head_logits))
        out = ModelOutput(clip_probs=torch.sigmoid(macro_logits), clip_logits=macro_logits, scales=scales,
                          primary_scale=len(self.backbone.channels) - 1 if cfg.multiscale else 0)
        if use_ensemble or (self.training and cfg.clip_loss_on == "ensemble"):
            out.ensemble_probs, out.ensemble_logits = self.ensemble(out)
            if not use_ensemble and not self.training:
                out.ensemble_probs = out.ensemble_logits = None
        return out

    def ensemble(self, out: ModelOutput) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Eq. 9: y_ens = mu * y_macro + (1 - mu) * y_att, y_att = sum_t softmax_t(a_t) d_t.

        For several scales y_att is the mean of the scales' attention-pooled
        predictions. In "logit" mode (authors' code) logits are mixed and the
        sigmoid applied after. Returns (probabilities, logits or None).
        """
        mu = self.config.mu
        att_probs, att_logits = [], []
        for s in out.scales:
            alpha = torch.softmax(s.attention, dim=1).unsqueeze(2)        # B x T x 1, sums to 1
            att_probs.append((alpha * s.segment_probs).sum(dim=1))
            att_logits.append((alpha * s.segment_logits).sum(dim=1))
        if self.config.ensemble_mode == "logit":
            logits = mu * out.clip_logits + (1 - mu) * torch.stack(att_logits).mean(dim=0)
            return torch.sigmoid(logits), logits
        y_att = torch.stack(att_probs).mean(dim=0)
        return (mu * out.clip_probs + (1 - mu) * y_att).clamp(0.0, 1.0), None


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
