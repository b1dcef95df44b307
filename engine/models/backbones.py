"""Feature-learning stacks f_cnn: 1-D convolutions over time with mel bins as channels.

Both backbones return the feature map of every stage (B x K_l x T_l), finest
first, so that single-scale methods use the last one and M&mnet-MS uses them
all. Each stage's map is post-activation (BatchNorm + ReLU), the form the heads
expect. Input: B x n_mels x T standardized log-mel, T a multiple of ``stride``.
"""
from __future__ import annotations

import torch
from torch import nn


def conv3(cin: int, cout: int) -> nn.Conv1d:
    return nn.Conv1d(cin, cout, kernel_size=3, padding=1, bias=False)


class PreActBlock(nn.Module):
    """Pre-activation residual block (He et al. 2016): BN-ReLU-conv-BN-ReLU-conv plus shortcut.

    The shortcut is a 1x1 convolution when the channel count changes (He et al.'s
    projection shortcut), or on every block with ``project_all`` (the authors' code puts one
    on the 384->384 block too: +0.15M parameters at the paper's width).
    """

    def __init__(self, cin: int, cout: int, project_all: bool = False):
        super().__init__()
        self.bn1 = nn.BatchNorm1d(cin)
        self.conv1 = conv3(cin, cout)
        self.bn2 = nn.BatchNorm1d(cout)
        self.conv2 = conv3(cout, cout)
        self.shortcut = nn.Conv1d(cin, cout, 1, bias=False) if (cin != cout or project_all) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = torch.relu(self.bn1(x))
        skip = self.shortcut(pre) if self.shortcut is not None else x
        out = self.conv1(pre)
        out = self.conv2(torch.relu(self.bn2(out)))
        return out + skip


class ResNet1d(nn.Module):
    """The paper's 12-layer ResNet (authors' configuration by default).

    Input BN, conv n_mels->stem, then one pre-activation block per stage
    (stem->256, 256->384, 384->384) with max-pooling by ``pool`` between stages.
    At 44.1 kHz / hop 492 the last map has a stride of 16 frames = 0.18 s.
    ``stage_outputs`` adds a BN+ReLU to the inner stages' maps (needed only by
    M&mnet-MS); the last stage always ends with BN+ReLU. ``shortcut``: "changed" (1x1
    projection only where the channel count changes) or "all" (on every block, authors' code).
    """

    def __init__(self, n_mels: int = 128, stem: int = 128, channels=(256, 384, 384), pool: int = 4,
                 stage_outputs: bool = False, shortcut: str = "changed"):
        super().__init__()
        self.input_bn = nn.BatchNorm1d(n_mels)
        self.stem = conv3(n_mels, stem)
        blocks, cin = [], stem
        for cout in channels:
            blocks.append(PreActBlock(cin, cout, project_all=shortcut == "all"))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.pool = pool
        n = len(channels)
        # post-activation for each stage used by a head; the last is always there
        self.out_norms = nn.ModuleList(
            [nn.BatchNorm1d(c) for c in channels[:-1]] if stage_outputs else []
        )
        self.final_bn = nn.BatchNorm1d(channels[-1])
        self.channels = tuple(channels)
        self.strides = tuple(pool ** i for i in range(n))

    @property
    def stride(self) -> int:
        return self.strides[-1]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(self.input_bn(x))
        maps = []
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i == last:
                maps.append(torch.relu(self.final_bn(x)))
            else:
                maps.append(torch.relu(self.out_norms[i](x)) if self.out_norms else None)
                x = nn.functional.max_pool1d(x, self.pool)
        return maps


class ConvNet1d(nn.Module):
    """The paper's 8-layer ConvNet: five conv-BN-ReLU layers (+ 3 FC layers in the macro head).

    Stages: [conv, conv] -> pool -> [conv, conv] -> pool -> [conv]; channels
    (128, 128, 256) by default, giving about 1.5M parameters with the macro head.
    """

    def __init__(self, n_mels: int = 128, channels=(128, 128, 256), layers=(2, 2, 1), pool: int = 4,
                 stage_outputs: bool = False):
        super().__init__()
        self.input_bn = nn.BatchNorm1d(n_mels)
        stages, cin = [], n_mels
        for cout, n in zip(channels, layers):
            mods = []
            for _ in range(n):
                mods += [conv3(cin, cout), nn.BatchNorm1d(cout), nn.ReLU(inplace=True)]
                cin = cout
            stages.append(nn.Sequential(*mods))
        self.stages = nn.ModuleList(stages)
        self.pool = pool
        self.channels = tuple(channels)
        self.strides = tuple(pool ** i for i in range(len(channels)))

    @property
    def stride(self) -> int:
        return self.strides[-1]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.input_bn(x)
        maps = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            maps.append(x)
            if i < len(self.stages) - 1:
                x = nn.functional.max_pool1d(x, self.pool)
        return maps


def build_backbone(kind: str, n_mels: int, stage_outputs: bool, **kw) -> nn.Module:
    if kind == "resnet":
        return ResNet1d(n_mels=n_mels, stage_outputs=stage_outputs, **kw)
    if kind == "convnet":
        return ConvNet1d(n_mels=n_mels, stage_outputs=stage_outputs, **kw)
    raise ValueError(f"unknown backbone {kind!r} (resnet, convnet)")
