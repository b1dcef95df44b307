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
resnet-att     the seed paper's ATT: one label-agnostic attention score a_t per segment,
               shared by all classes, pooling the segment predictions (sec. 2.3, Fig. 5)
resnet-att-    Xu et al. 2017a's own ATT: a per-class attention over time pooling each
  class        class's segment predictions (model files written before config_version 2
               under the name resnet-att are this model)
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
from .heads import (ClassAttentionHead, MacroHead, MicroHead, SharedAttentionHead, masked_mean, masked_softmax,
                    mlp_1x1)
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
    "resnet-att-class": ("resnet", "att-class"),
    "mmnet": ("resnet", "mmnet"),
    "mmnet-ms": ("resnet", "mmnet"),
}

# Named departures of the authors' public code from the paper (shared/paper/NOTES.md).
# "authors-code" is their loss exactly (micro loss a mean over batch, classes and segments;
# positives weighted by the detached a_t times the class weight, negatives by 1; clip loss on
# the logit ensemble, which is what trains f_att) and their f_det/f_att (single convolutions
# over 3 segments). "label-specific" is that loss with a per-class mix of the m heads, a_{t,c},
# in place of the shared a_t, each class's y_att pooled by its own a_{t,c} (issue 16).
VARIANTS = {
    "paper": dict(clip_loss_on="macro", ensemble_mode="prob", detach_attention=False),
    "authors-code": dict(clip_loss_on="ensemble", ensemble_mode="logit", detach_attention=True,
                         micro_reduction="mean", micro_negatives="uniform", micro_hidden=0, micro_kernel=3),
    "label-specific": dict(clip_loss_on="ensemble", ensemble_mode="prob", detach_attention=True,
                           micro_reduction="mean", micro_negatives="uniform", micro_attention="label",
                           ensemble_pooling="unit"),
}

# ModelConfig.config_version: 1 (absent) = files written before the two ATT readings; their
# "resnet-att" was Xu et al.'s per-class attention, read back as "resnet-att-class".
CONFIG_VERSION = 2


@dataclass
class ModelConfig:
    """Architecture and training-objective settings; saved in every model file.

    method: one of METHODS. n_classes: C.
    n_mels: input channels. frame_hop_s: seconds per input frame (sets each scale's hop_s).
    channels / stem: backbone widths (None = the backbone's paper default). pool: max-pool factor between stages.
    fc_hidden, fc_layers: macro FC stack (1024 x 2 in the paper).
    micro_hidden: width of the hidden FC layer of f_det and f_att (0 = a single
        layer as in the authors' code). heads: m, attention heads (384).
    micro_kernel: width over segments of f_det's and f_att's convolutions (1: fully
        connected per segment, the paper's words; 3: the authors' code).
    shortcut: "changed" (1x1 projection where the channel count changes) or "all" (authors' code).
    micro_attention: "shared" (eq. 6: one a_t for all classes) or "label" (a_{t,c}, a learned
        per-class mix of the m heads, weighting each class's segment BCE and pooling its y_att).
    multiscale: micro heads on every stage and upsampled maps (mmnet-ms).
    mu: eq. 9 weight of the macro prediction in the ensemble. ensemble: use eq. 9 at inference.
    ensemble_mode: "prob" (paper: mix probabilities) or "logit" (authors' code: mix logits).
    clip_loss_on: "macro" (paper, eq. 8) or "ensemble" (authors' code).
    detach_attention: stop gradients through a_t in the micro loss (authors' code).
    attention_scale: "heads" (eq. 6 as written: a_t sums to m) or "unit" (a_t / m sums to 1) in the micro loss.
    micro_reduction: "sum" over segments (eq. 7) or "mean" over segments (authors' code).
    micro_negatives: "attention" (eq. 7: a_t weighs every class's BCE) or "uniform" (authors'
        code: a_t times the class weight on the clip's positive classes, 1 on its negatives).
    ensemble_pooling: alpha_t of eq. 9 from a_t: "softmax" (the paper: softmax_t(a_t), whose
        sharpness depends on m and T), "zscore" (softmax of a_t standardized over time) or
        "unit" (a_t / sum_t a_t, no second softmax).
    ensemble_scales: "all" (mean of every scale's y_att) or "primary" (the last stage's only).
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
    micro_kernel: int = 1
    shortcut: str = "changed"
    micro_attention: str = "shared"
    multiscale: bool = False
    mu: float = 0.5
    ensemble: bool = True
    ensemble_mode: str = "prob"
    clip_loss_on: str = "macro"
    detach_attention: bool = False
    attention_scale: str = "heads"
    micro_reduction: str = "sum"
    micro_negatives: str = "attention"
    ensemble_pooling: str = "softmax"
    ensemble_scales: str = "all"
    micro_weight: float = 1.0
    class_weight_beta: float = 0.3
    plat_threshold: float = 0.5
    variant: str = "paper"
    config_version: int = CONFIG_VERSION

    def __post_init__(self):
        if self.method not in METHOD_TABLE:
            raise ConfigError(f"unknown method {self.method!r}; choose from {', '.join(METHOD_TABLE)}")
        if self.channels is not None:
            self.channels = tuple(int(c) for c in self.channels)
        for name, allowed in (("ensemble_mode", ("prob", "logit")), ("clip_loss_on", ("macro", "ensemble")),
                              ("attention_scale", ("heads", "unit")), ("micro_reduction", ("sum", "mean")),
                              ("micro_negatives", ("attention", "uniform")), ("shortcut", ("changed", "all")),
                              ("micro_attention", ("shared", "label")),
                              ("ensemble_pooling", ("softmax", "zscore", "unit")),
                              ("ensemble_scales", ("all", "primary"))):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")
        if not 0.0 <= self.mu <= 1.0:
            raise ConfigError("mu must lie in [0, 1]")
        if self.n_classes < 1:
            raise ConfigError("n_classes must be at least 1")
        if self.micro_kernel < 1 or self.micro_kernel % 2 == 0:
            raise ConfigError(f"micro_kernel must be an odd number >= 1, not {self.micro_kernel}")

    def check_trainable(self) -> None:
        """Refuse objectives that leave a part of the model without any gradient.

        f_att learns through the micro loss unless a_t is detached there, and through the
        clip loss only when that loss is on the ensemble (mu < 1) and y_att pools every
        scale. ``detach_attention=true`` with ``clip_loss_on=macro`` leaves it random.
        """
        if self.kind != "mmnet":
            return
        through_micro = not self.detach_attention and self.micro_weight > 0
        through_clip = self.clip_loss_on == "ensemble" and self.mu < 1
        if through_clip and self.multiscale and self.ensemble_scales == "primary" and not through_micro:
            raise ConfigError("ensemble_scales=primary with detach_attention=true leaves the attention of the "
                              "other scales without gradient; use ensemble_scales=all")
        if not (through_micro or through_clip):
            raise ConfigError(
                "nothing would train the attention f_att: with detach_attention=true the micro loss sends it "
                "no gradient, so the clip loss must be on the ensemble (clip_loss_on=ensemble, mu < 1); "
                "got clip_loss_on={}, mu={}, micro_weight={}".format(self.clip_loss_on, self.mu, self.micro_weight))
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
        """Read a stored config; one without config_version (version 1) that says
        method "resnet-att" is Xu et al.'s per-class ATT, now "resnet-att-class"."""
        data = upgrade_config_dict(data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**data)


def upgrade_config_dict(data: dict) -> dict:
    """A copy of a stored model config in the current version's terms (see CONFIG_VERSION)."""
    data = dict(data)
    if int(data.get("config_version", 1)) < 2:
        if data.get("method") == "resnet-att":
            data["method"] = "resnet-att-class"
        data["config_version"] = CONFIG_VERSION
    return data


class SoundEventModel(nn.Module):
    """forward(features B x n_mels x T, n_valid=None) -> :class:`ModelOutput`.

    T need not be a multiple of the total stride: the input is padded on the
    right with its last frame, and segment outputs beyond the input are cut.
    n_valid (B ints, frames): clips zero-padded to the training window; segments past
    ceil(n_valid / stride) are left out of every softmax over time and every pooling, and
    marked in each scale's ``valid`` mask for the losses.
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
            bb_kw["shortcut"] = cfg.shortcut
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
            self.att_head = SharedAttentionHead(k_last, C, cfg.fc_hidden, cfg.fc_layers)
        if kind == "att-class":
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
            self.micro = nn.ModuleList(
                MicroHead(c, C, cfg.micro_hidden, cfg.heads, cfg.micro_kernel, cfg.micro_attention == "label")
                for _, c, _ in scales)
            self.scale_specs = scales
        else:
            self.scale_specs = [(f"stage{len(chans)}", k_last, strides[-1])] if kind in (
                "wlat", "slat", "plat", "att", "att-class") else []
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

    @property
    def primary_index(self) -> int:
        """Index in the scales of the last backbone stage (the 0.18-s scale at the paper's settings)."""
        return len(self.backbone.channels) - 1 if (self.config.multiscale and self.config.kind == "mmnet") else 0

    def forward(self, feats: torch.Tensor, ensemble: bool | None = None,
                n_valid: torch.Tensor | None = None) -> ModelOutput:
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
        if n_valid is not None:
            n_valid = torch.as_tensor(n_valid, device=feats.device).reshape(-1).clamp(1, t_in)
            if bool((n_valid >= t_in).all()):
                n_valid = None

        def valid(stride: int) -> int:  # segments that overlap the unpadded input
            return -(-t_in // stride)

        def seg_mask(stride: int, n: int) -> torch.Tensor | None:  # B x n, True on real segments
            if n_valid is None:
                return None
            per_clip = torch.div(n_valid + stride - 1, stride, rounding_mode="floor")
            return torch.arange(n, device=feats.device)[None, :] < per_clip[:, None]

        last_n = valid(self.stride)
        mask_last = seg_mask(self.stride, x.shape[-1])

        if kind == "pool":
            logits = self.macro(x, mask_last)
            return ModelOutput(clip_probs=torch.sigmoid(logits), clip_logits=logits)

        name, _, stride = self.scale_specs[-1] if kind != "mmnet" else (None, None, None)
        if kind in ("wlat", "slat"):
            seg_logits = self.segment_cls(x).transpose(1, 2)[:, :last_n]
            seg_probs = torch.sigmoid(seg_logits)
            m = seg_mask(stride, last_n)
            scale = ScaleOutput(seg_probs, stride * hop, name, segment_logits=seg_logits, valid=m)
            clip = masked_mean(seg_probs, None if m is None else m[:, :, None], dim=1)
            return ModelOutput(clip_probs=clip, scales=[scale], primary_scale=0)

        if kind == "plat":
            logits = self.macro(x, mask_last)
            seg_logits = self.plat_det(x).transpose(1, 2)[:, :last_n]
            scale = ScaleOutput(torch.sigmoid(seg_logits), stride * hop, name, segment_logits=seg_logits,
                                valid=seg_mask(stride, last_n))
            out = ModelOutput(clip_probs=torch.sigmoid(logits), clip_logits=logits, scales=[scale], primary_scale=0)
            if self.training:
                # class activation map of the macro classifier on each segment (no gradient)
                with torch.no_grad():
                    out.scales[0].class_attention = torch.sigmoid(self.macro.segment_logits(x))[:, :last_n]
            return out

        if kind in ("att", "att-class"):
            # the attention softmax runs over the segments that hold real input only
            x_in = x[:, :, :last_n]
            m = seg_mask(stride, last_n)
            seg_logits, att, clip = self.att_head(x_in, m)
            if kind == "att":
                scale = ScaleOutput(torch.sigmoid(seg_logits), stride * hop, name, segment_logits=seg_logits,
                                    attention=att, valid=m)
            else:
                scale = ScaleOutput(torch.sigmoid(seg_logits), stride * hop, name, segment_logits=seg_logits,
                                    attention=att.mean(dim=2), class_attention=att, valid=m)
            return ModelOutput(clip_probs=clip, scales=[scale], primary_scale=0)

        # M&mnet / M&mnet-MS
        macro_logits = self.macro(x, mask_last)
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
            seg_logits, head_logits = head(fmap)
            n = valid(stride)
            # attention normalized over the segments that hold real input
            head_logits, seg_logits = head_logits[:, :, :n], seg_logits[:, :n]
            m = seg_mask(stride, n)
            a, a_class = head.attention(head_logits, m)
            scales.append(ScaleOutput(torch.sigmoid(seg_logits), stride * hop, name,
                                      segment_logits=seg_logits, attention=a, class_attention=a_class,
                                      head_logits=head_logits, valid=m))
        out = ModelOutput(clip_probs=torch.sigmoid(macro_logits), clip_logits=macro_logits, scales=scales,
                          primary_scale=self.primary_index)
        if use_ensemble or (self.training and cfg.clip_loss_on == "ensemble"):
            out.ensemble_probs, out.ensemble_logits = self.ensemble(out)
            if not use_ensemble and not self.training:
                out.ensemble_probs = out.ensemble_logits = None
        return out

    def pooling_weights(self, s: ScaleOutput) -> torch.Tensor:
        """alpha of eq. 9 on one scale: B x T x 1 (shared) or B x T x C (label-specific), summing to 1 over T.

        From a_t (or a_{t,c}) by ``ensemble_pooling``: "softmax" (the paper), "zscore"
        (softmax of a_t standardized over the clip's real segments) or "unit" (a_t / sum a_t).
        """
        a = s.class_attention if s.class_attention is not None else s.attention.unsqueeze(2)
        mask = None if s.valid is None else s.valid[:, :, None]
        mode = self.config.ensemble_pooling
        if mode == "unit":
            w = a if mask is None else a * mask
            return w / w.sum(dim=1, keepdim=True).clamp_min(1e-12)
        if mode == "zscore":
            mean = masked_mean(a, mask, dim=1).unsqueeze(1)
            var = masked_mean((a - mean) ** 2, mask, dim=1).unsqueeze(1)
            a = (a - mean) / (var + 1e-12).sqrt()
        return masked_softmax(a, mask, dim=1)

    def attention_pooled(self, s: ScaleOutput) -> tuple[torch.Tensor, torch.Tensor]:
        """y_att of one scale, sum_t alpha_t d_t (eq. 9), as (probabilities B x C, the same sum of logits B x C)."""
        alpha = self.pooling_weights(s)                                       # B x T x (1 or C)
        return (alpha * s.segment_probs).sum(dim=1), (alpha * s.segment_logits).sum(dim=1)

    def ensemble_scale_indices(self, out: ModelOutput) -> list[int]:
        """The scales whose y_att enter eq. 9: all of them, or the primary one (``ensemble_scales``)."""
        if self.config.ensemble_scales == "primary":
            return [out.primary_scale]
        return list(range(len(out.scales)))

    def ensemble(self, out: ModelOutput, mu: float | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Eq. 9: y_ens = mu * y_macro + (1 - mu) * y_att, y_att = sum_t alpha_t d_t.

        alpha from :meth:`pooling_weights`. For several scales y_att is the mean of the
        scales' attention-pooled predictions (``ensemble_scales=all``) or the primary
        scale's alone. In "logit" mode (authors' code) logits are mixed and the sigmoid
        applied after. mu: None uses the configured one (any value in [0, 1] for teaching).
        Returns (probabilities, logits or None).
        """
        mu = self.config.mu if mu is None else float(mu)
        pooled = [self.attention_pooled(out.scales[i]) for i in self.ensemble_scale_indices(out)]
        if self.config.ensemble_mode == "logit":
            logits = mu * out.clip_logits + (1 - mu) * torch.stack([lg for _, lg in pooled]).mean(dim=0)
            return torch.sigmoid(logits), logits
        y_att = torch.stack([p for p, _ in pooled]).mean(dim=0)
        return (mu * out.clip_probs + (1 - mu) * y_att).clamp(0.0, 1.0), None


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
