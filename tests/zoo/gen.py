#!/usr/bin/env python3
"""Export the trtfx model zoo: public architectures, random weights, both dialects, goldens.

Run from anywhere (CPU is enough; torch==2.11.0, torchvision==0.26.0, timm, transformers,
safetensors):

    python tests/zoo/gen.py                 # the small tier -> tests/zoo/models/ (committed)
    python tests/zoo/gen.py --tier large    # the rest -> target/zoo/models/ (not committed)
    python tests/zoo/gen.py --only resnet18,bert   # some models only (manifest entries merged)
    python tests/zoo/gen.py --jobs 2        # parallel exports (default: min(2, cpus))

For every model NAME that exports, this writes into the tier's folder:
  NAME.pt2            torch.export.export(...) saved as is (export IR / TRAINING dialect)
  NAME.core.pt2       the same program after ep.run_decompositions() (core ATen dialect)
  NAME.io.safetensors in_0.. (user inputs, signature order), out_0.. (user outputs, flattened),
                      the outputs being torch.export.load("NAME.pt2").module()(*inputs)
and the tier's manifest (tests/zoo/manifest.json for the small tier, manifest.large.json beside
the large models) with one entry per model: where it comes from, its status (`ok`, or the stage
that failed: `build`, `export`, `core`, `golden`, `timeout`, `crash`) with a one-line error,
parameter count, node counts, input/output types, archive sizes and notes (core vs export
disagreement, collapsed outputs). A failing model never stops the others: every model is
exported in its own process with a time limit.

All randomness is seeded: weights are random init (nothing is downloaded), so the safetensors
files are reproducible; the archives differ between runs only in metadata.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import traceback
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TIERS = {
    "small": dict(out=os.path.join(HERE, "models"), manifest=os.path.join(HERE, "manifest.json")),
    "large": dict(out=os.path.join(ROOT, "target", "zoo", "models"),
                  manifest=os.path.join(ROOT, "target", "zoo", "manifest.large.json")),
}
TIMEOUT_S = 900
ATOL = 1e-5
RTOL = 1e-5
MIN_MAG = 1e-3

REGISTRY = {}  # name -> (tier, family, task, source, builder)


def model(name, family, task, source, tier="small"):
    """Registers builder() -> (nn.Module, args tuple) under `name`."""
    def deco(fn):
        assert name not in REGISTRY, name
        REGISTRY[name] = (tier, family, task, source, fn)
        return fn
    return deco


# --------------------------------------------------------------------------------------------
# helpers (imported lazily inside the builders: the driver process needs no torch)
# --------------------------------------------------------------------------------------------
def gen(seed):
    import torch
    return torch.Generator().manual_seed(seed)


def image(n=1, c=3, h=32, w=None, seed=0):
    import torch
    return torch.randn(n, c, h, w or h, generator=gen(1000 + seed))


def token_ids(vocab, b=2, s=8, seed=0):
    import torch
    return torch.randint(3, vocab, (b, s), generator=gen(2000 + seed), dtype=torch.int64)


def padded_mask(b=2, s=8):
    """1 = attend; the second row has 3 padding positions, so the masking ops do work."""
    import torch
    m = torch.ones(b, s, dtype=torch.int64)
    if b > 1:
        m[1, s - 3:] = 0
    return m


def randomize_bn(model, seed):
    """Non-trivial batchnorm state: random running stats, weight and bias (eval mode uses them)."""
    import torch
    import torch.nn as nn
    g = gen(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=g) * 0.8 + 0.6)
                if m.affine:
                    m.weight.copy_(torch.rand(c, generator=g) * 0.8 + 0.6)
                    m.bias.copy_(torch.randn(c, generator=g) * 0.2)
    return model


def logits_of(hf_model, **fixed):
    """Wraps a transformers model: tensor inputs in, the first output tensor (logits or
    last_hidden_state) out, without caches."""
    import torch.nn as nn

    class HF(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = hf_model

        def forward(self, *args):
            names = self.names
            out = self.m(**dict(zip(names, args)), **fixed)
            return out[0]

    w = HF()
    return w


def hf_wrap(hf_model, names, args, **fixed):
    w = logits_of(hf_model, **fixed)
    w.names = list(names)
    return w, tuple(args)


def tiny_resnet(block, layers, div, num_classes=10, **kw):
    """torchvision's ResNet with every stage width divided by `div` (stem stays 64)."""
    import torch.nn as nn
    import torchvision

    class TinyResNet(torchvision.models.ResNet):
        def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
            return super()._make_layer(block, planes // div, blocks, stride, dilate)

    m = TinyResNet(block, layers, num_classes=num_classes, **kw)
    m.fc = nn.Linear(512 // div * block.expansion, num_classes)
    return m


# --------------------------------------------------------------------------------------------
# torchvision classification
# --------------------------------------------------------------------------------------------
@model("resnet18", "torchvision", "classification",
       "torchvision.models.ResNet(BasicBlock, [2,2,2,2]), stage widths / 16")
def _():
    from torchvision.models.resnet import BasicBlock
    return randomize_bn(tiny_resnet(BasicBlock, [2, 2, 2, 2], 16), 1), (image(seed=1),)


@model("resnet50", "torchvision", "classification",
       "torchvision.models.ResNet(Bottleneck, [3,4,6,3]), stage widths / 16")
def _():
    from torchvision.models.resnet import Bottleneck
    return randomize_bn(tiny_resnet(Bottleneck, [3, 4, 6, 3], 16), 2), (image(seed=2),)


@model("resnext50_32x4d", "torchvision", "classification",
       "torchvision.models.ResNet(Bottleneck, [1,1,1,1], groups=8, width_per_group=16), widths / 8")
def _():
    from torchvision.models.resnet import Bottleneck
    m = tiny_resnet(Bottleneck, [1, 1, 1, 1], 8, groups=8, width_per_group=16)
    return randomize_bn(m, 3), (image(seed=3),)


@model("mobilenet_v2", "torchvision", "classification",
       "torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10)")
def _():
    import torchvision
    m = torchvision.models.mobilenet_v2(weights=None, width_mult=0.25, num_classes=10)
    return randomize_bn(m, 4), (image(seed=4),)


@model("mobilenet_v3_small", "torchvision", "classification",
       "torchvision.models.mobilenet_v3_small(width_mult=0.25, reduced_tail=True, num_classes=10)")
def _():
    import torchvision
    m = torchvision.models.mobilenet_v3_small(weights=None, width_mult=0.25, reduced_tail=True,
                                              num_classes=10)
    return randomize_bn(m, 5), (image(seed=5),)


@model("mobilenet_v3_large", "torchvision", "classification",
       "torchvision.models.mobilenet_v3_large(width_mult=0.25, reduced_tail=True, num_classes=10)")
def _():
    import torchvision
    m = torchvision.models.mobilenet_v3_large(weights=None, width_mult=0.25, reduced_tail=True,
                                              num_classes=10)
    return randomize_bn(m, 6), (image(seed=6),)


@model("efficientnet_b0", "torchvision", "classification",
       "torchvision EfficientNet, efficientnet_b0 settings with width_mult=0.25, depth_mult=0.5")
def _():
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.5)
    m = EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.0, num_classes=10,
                     last_channel=last)
    return randomize_bn(m, 7), (image(seed=7),)


@model("efficientnet_v2_s", "torchvision", "classification",
       "torchvision EfficientNet with efficientnet_v2_s block types (FusedMBConv+MBConv), "
       "channels / 4, one layer per stage")
def _():
    from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig
    setting = [
        FusedMBConvConfig(1, 3, 1, 8, 8, 1),
        FusedMBConvConfig(4, 3, 2, 8, 16, 1),
        FusedMBConvConfig(4, 3, 2, 16, 16, 1),
        MBConvConfig(4, 3, 2, 16, 32, 1),
        MBConvConfig(6, 3, 1, 32, 40, 1),
        MBConvConfig(6, 3, 2, 40, 64, 1),
    ]
    m = EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.0, num_classes=10,
                     last_channel=128)
    return randomize_bn(m, 8), (image(seed=8),)


@model("regnet_y_400mf", "torchvision", "classification",
       "torchvision RegNet, BlockParams.from_init_params(depth=6, w_0=8, w_a=8, w_m=2, "
       "group_width=8, se_ratio=0.25)")
def _():
    from torchvision.models.regnet import BlockParams, RegNet
    bp = BlockParams.from_init_params(depth=6, w_0=8, w_a=8.0, w_m=2.0, group_width=8,
                                      se_ratio=0.25)
    return randomize_bn(RegNet(bp, num_classes=10, stem_width=16), 9), (image(seed=9),)


@model("regnet_x_400mf", "torchvision", "classification",
       "torchvision RegNet, BlockParams.from_init_params(depth=6, w_0=8, w_a=8, w_m=2, "
       "group_width=8), no squeeze-excite")
def _():
    from torchvision.models.regnet import BlockParams, RegNet
    bp = BlockParams.from_init_params(depth=6, w_0=8, w_a=8.0, w_m=2.0, group_width=8)
    return randomize_bn(RegNet(bp, num_classes=10, stem_width=16), 10), (image(seed=10),)


@model("convnext_tiny", "torchvision", "classification",
       "torchvision ConvNeXt, 4 stages of 1 block, channels 8/16/32/64, layer_scale=0.5")
def _():
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    cfg = [CNBlockConfig(8, 16, 1), CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 1),
           CNBlockConfig(64, None, 1)]
    return ConvNeXt(cfg, stochastic_depth_prob=0.0, layer_scale=0.5, num_classes=10), \
        (image(seed=11),)


@model("vit_b_16", "torchvision", "classification",
       "torchvision VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, "
       "hidden_dim=32, mlp_dim=64)")
def _():
    from torchvision.models.vision_transformer import VisionTransformer
    m = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32,
                          mlp_dim=64, num_classes=10)
    return m, (image(seed=12),)


@model("swin_t", "torchvision", "classification",
       "torchvision SwinTransformer(patch_size=[4,4], embed_dim=16, depths=[2,2], "
       "num_heads=[2,4], window_size=[4,4]) on 32x32")
def _():
    from torchvision.models.swin_transformer import SwinTransformer
    m = SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4],
                        window_size=[4, 4], stochastic_depth_prob=0.0, num_classes=10)
    return m, (image(seed=13),)


@model("swin_v2_t", "torchvision", "classification",
       "torchvision SwinTransformer v2 blocks (SwinTransformerBlockV2, PatchMergingV2), "
       "embed_dim=16, depths=[2,2], window 4")
def _():
    from torchvision.models.swin_transformer import (PatchMergingV2, SwinTransformer,
                                                     SwinTransformerBlockV2)
    m = SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4],
                        window_size=[4, 4], stochastic_depth_prob=0.0, num_classes=10,
                        block=SwinTransformerBlockV2, downsample_layer=PatchMergingV2)
    return m, (image(seed=14),)


@model("maxvit_t", "torchvision", "classification",
       "torchvision MaxVit(input_size=(32,32), stem_channels=8, partition_size=2, "
       "block_channels=[16,32], block_layers=[1,1], head_dim=8)")
def _():
    from torchvision.models.maxvit import MaxVit
    m = MaxVit(input_size=(32, 32), stem_channels=8, partition_size=2, block_channels=[16, 32],
               block_layers=[1, 1], head_dim=8, stochastic_depth_prob=0.0, num_classes=10)
    return randomize_bn(m, 15), (image(seed=15),)


@model("squeezenet1_1", "torchvision", "classification",
       "squeezenet1_1 topology from torchvision's Fire modules, widths / 4")
def _():
    import torch.nn as nn
    from torchvision.models.squeezenet import Fire
    m = nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, ceil_mode=True), Fire(16, 4, 16, 16), Fire(32, 4, 16, 16),
        nn.MaxPool2d(3, 2, ceil_mode=True), Fire(32, 8, 32, 32), Fire(64, 8, 32, 32),
        nn.MaxPool2d(3, 2, ceil_mode=True), Fire(64, 12, 48, 48), Fire(96, 12, 48, 48),
        Fire(96, 16, 64, 64), Fire(128, 16, 64, 64),
        nn.Dropout(0.5), nn.Conv2d(128, 10, 1), nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(1))
    return m, (image(h=64, seed=16),)


@model("shufflenet_v2_x0_5", "torchvision", "classification",
       "torchvision ShuffleNetV2(stages_repeats=[2,2,2], stages_out_channels=[8,16,32,64,128])")
def _():
    from torchvision.models.shufflenetv2 import ShuffleNetV2
    m = ShuffleNetV2([2, 2, 2], [8, 16, 32, 64, 128], num_classes=10)
    return randomize_bn(m, 17), (image(seed=17),)


@model("densenet121", "torchvision", "classification",
       "torchvision DenseNet(growth_rate=8, block_config=(3,6,12,8), num_init_features=16)")
def _():
    from torchvision.models.densenet import DenseNet
    m = DenseNet(growth_rate=8, block_config=(3, 6, 12, 8), num_init_features=16, bn_size=2,
                 num_classes=10)
    return randomize_bn(m, 18), (image(seed=18),)


@model("mnasnet0_5", "torchvision", "classification",
       "torchvision MNASNet(alpha=0.25, num_classes=10)", tier="large")
def _():
    from torchvision.models.mnasnet import MNASNet
    return randomize_bn(MNASNet(0.25, num_classes=10), 19), (image(seed=19),)


@model("googlenet", "torchvision", "classification",
       "torchvision.models.googlenet(aux_logits=False, init_weights=True, num_classes=10)",
       tier="large")
def _():
    import torchvision
    m = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True,
                                     num_classes=10)
    return randomize_bn(m, 20), (image(h=64, seed=20),)


@model("inception_v3", "torchvision", "classification",
       "torchvision.models.inception_v3(aux_logits=False, init_weights=True, num_classes=10)",
       tier="large")
def _():
    import torchvision
    m = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=True,
                                        num_classes=10)
    return randomize_bn(m, 21), (image(h=96, seed=21),)


# full-size torchvision classifiers (the large tier: regenerate, not committed)
for _name, _h in [("resnet18", 64), ("mobilenet_v2", 64), ("efficientnet_b0", 64),
                  ("squeezenet1_1", 64), ("shufflenet_v2_x1_0", 64), ("densenet121", 64),
                  ("convnext_tiny", 64), ("regnet_y_400mf", 64), ("alexnet", 64),
                  ("vgg11_bn", 64), ("wide_resnet50_2", 64)]:
    def _full(_name=_name, _h=_h):
        import torchvision
        m = getattr(torchvision.models, _name)(weights=None, num_classes=10)
        return randomize_bn(m, 30), (image(h=_h, seed=30),)
    model(f"{_name}.full", "torchvision", "classification",
          f"torchvision.models.{_name}(weights=None, num_classes=10), default widths",
          tier="large")(_full)


# --------------------------------------------------------------------------------------------
# torchvision segmentation and detection
# --------------------------------------------------------------------------------------------
def tiny_mbv3_large_features():
    import torchvision
    return torchvision.models.mobilenet_v3_large(weights=None, width_mult=0.25, dilated=True,
                                                 reduced_tail=True).features


@model("lraspp_mobilenet_v3_large", "torchvision", "segmentation",
       "torchvision LRASPP on mobilenet_v3_large(width_mult=0.25, dilated=True, "
       "reduced_tail=True) features, "
       "inter_channels=16, 3 classes")
def _():
    from torchvision.models._utils import IntermediateLayerGetter
    from torchvision.models.segmentation.lraspp import LRASPP
    feats = tiny_mbv3_large_features()
    stage = [0] + [i for i, b in enumerate(feats) if getattr(b, "_is_cn", False)] + \
        [len(feats) - 1]
    low, high = stage[-4], stage[-1]
    lc, hc = feats[low].out_channels, feats[high].out_channels
    bb = IntermediateLayerGetter(feats, return_layers={str(low): "low", str(high): "high"})
    m = LRASPP(bb, lc, hc, num_classes=3, inter_channels=16)
    return randomize_bn(m, 40), (image(h=64, seed=40),)


@model("deeplabv3_mobilenet_v3_large", "torchvision", "segmentation",
       "torchvision DeepLabV3 on mobilenet_v3_large(width_mult=0.25, dilated=True, "
       "reduced_tail=True) features, "
       "ASPP(rates 2/4/6, 16 channels), 3 classes")
def _():
    import torch.nn as nn
    from torchvision.models._utils import IntermediateLayerGetter
    from torchvision.models.segmentation.deeplabv3 import ASPP, DeepLabV3
    feats = tiny_mbv3_large_features()
    out = len(feats) - 1
    bb = IntermediateLayerGetter(feats, return_layers={str(out): "out"})
    c = feats[out].out_channels
    head = nn.Sequential(ASPP(c, [2, 4, 6], out_channels=16), nn.Conv2d(16, 16, 3, padding=1,
                         bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 3, 1))
    return randomize_bn(DeepLabV3(bb, head), 41), (image(h=64, seed=41),)


@model("fcn_resnet50", "torchvision", "segmentation",
       "torchvision FCN(FCNHead) on a ResNet(Bottleneck, [1,1,1,1]) backbone, widths / 16, "
       "dilated layer3/layer4, 3 classes")
def _():
    from torchvision.models._utils import IntermediateLayerGetter
    from torchvision.models.resnet import Bottleneck
    from torchvision.models.segmentation.fcn import FCN, FCNHead
    r = tiny_resnet(Bottleneck, [1, 1, 1, 1], 16,
                    replace_stride_with_dilation=[False, True, True])
    bb = IntermediateLayerGetter(r, return_layers={"layer4": "out"})
    return randomize_bn(FCN(bb, FCNHead(512 // 16 * 4, 3)), 42), (image(h=64, seed=42),)


@model("ssdlite320_mobilenet_v3_large", "torchvision", "detection",
       "torchvision SSD with SSDLiteHead on mobilenet_v3_large(width_mult=0.25) features "
       "(torchvision's ssdlite extractor), 64x64 input, 3 classes, postprocessing included")
def _():
    from functools import partial
    import torch.nn as nn
    import torchvision
    from torchvision.models.detection import _utils as det_utils
    from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
    from torchvision.models.detection.ssd import SSD
    from torchvision.models.detection.ssdlite import SSDLiteHead, _mobilenet_extractor
    norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.03)
    bb = torchvision.models.mobilenet_v3_large(weights=None, width_mult=0.25, norm_layer=norm,
                                               reduced_tail=False)
    bb = _mobilenet_extractor(bb, 6, norm)
    size = (64, 64)
    anchors = DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
    chans = det_utils.retrieve_out_channels(bb, size)
    head = SSDLiteHead(chans, anchors.num_anchors_per_location(), 3, norm)
    m = SSD(bb, anchors, size, 3, head=head, score_thresh=0.001, nms_thresh=0.55,
            detections_per_img=20, topk_candidates=50, image_mean=[0.5] * 3,
            image_std=[0.5] * 3)
    import torch

    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = m

        def forward(self, x):
            d = self.m([x[0]])[0]
            return d["boxes"], d["scores"], d["labels"]
    return randomize_bn(Flat(), 43), (torch.rand(1, 3, 64, 64, generator=gen(43)),)


@model("fasterrcnn_mobilenet_v3_large_fpn", "torchvision", "detection",
       "torchvision.models.detection.fasterrcnn_mobilenet_v3_large_fpn(num_classes=3, "
       "weights_backbone=None), 128x128 input, postprocessing included", tier="large")
def _():
    import torch
    import torch.nn as nn
    import torchvision
    m = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_fpn(
        weights=None, weights_backbone=None, num_classes=3, min_size=128, max_size=128)

    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = m

        def forward(self, x):
            d = self.m([x[0]])[0]
            return d["boxes"], d["scores"], d["labels"]
    return Flat(), (torch.rand(1, 3, 128, 128, generator=gen(44)),)


@model("lraspp_mobilenet_v3_large.full", "torchvision", "segmentation",
       "torchvision.models.segmentation.lraspp_mobilenet_v3_large(num_classes=3), 64x64",
       tier="large")
def _():
    import torchvision
    m = torchvision.models.segmentation.lraspp_mobilenet_v3_large(
        weights=None, weights_backbone=None, num_classes=3)
    return randomize_bn(m, 45), (image(h=64, seed=45),)


@model("deeplabv3_mobilenet_v3_large.full", "torchvision", "segmentation",
       "torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(num_classes=3), 64x64",
       tier="large")
def _():
    import torchvision
    m = torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(
        weights=None, weights_backbone=None, num_classes=3, aux_loss=False)
    return randomize_bn(m, 46), (image(h=64, seed=46),)


# --------------------------------------------------------------------------------------------
# timm (tiny configs; `test_*` are timm's own test-size variants)
# --------------------------------------------------------------------------------------------
# timm models whose smallest config is too large to commit (> 2 MB of weights per archive)
TIMM_LARGE = {"timm_ghostnet_050", "timm_test_maxvit", "timm_mobilevit_xxs",
              "timm_test_vit_relpos", "timm_test_coatnet", "timm_lcnet_035", "timm_test_vit",
              "timm_test_efficientnet_gn", "timm_test_byobnet"}
TIMM = [
    ("timm_resnet", "resnet18", dict(channels=(8, 16, 24, 32), stem_width=16)),
    ("timm_test_vit", "test_vit", {}),
    ("timm_test_vit_relpos", "test_vit_relpos", {}),
    ("timm_test_convnext", "test_convnext", {}),
    ("timm_test_efficientnet", "test_efficientnet", {}),
    ("timm_test_efficientnet_gn", "test_efficientnet_gn", {}),
    ("timm_test_byobnet", "test_byobnet", {}),
    ("timm_test_nfnet", "test_nfnet", {}),
    ("timm_test_coatnet", "test_coatnet", {}),
    ("timm_test_maxvit", "test_maxvit", {}),
    ("timm_deit_tiny", "deit_tiny_patch16_224",
     dict(img_size=32, patch_size=8, depth=2, embed_dim=32, num_heads=2)),
    ("timm_mobilevit_xxs", "mobilevit_xxs", {}),
    ("timm_lcnet_035", "lcnet_035", {}),
    ("timm_ghostnet_050", "ghostnet_050", {}),
    ("timm_pvt_v2_b0", "pvt_v2_b0", dict(embed_dims=(8, 16, 32, 64), depths=(1, 1, 1, 1),
                                          num_heads=(1, 1, 2, 2))),
    ("timm_levit_128s", "levit_128s", dict(img_size=64, embed_dim=(32, 48, 64), key_dim=8,
                                           depth=(1, 1, 1), num_heads=(2, 3, 4))),
]
for _name, _arch, _kw in TIMM:
    def _timm(_arch=_arch, _kw=_kw, _seed=len(REGISTRY)):
        import timm
        m = timm.create_model(_arch, pretrained=False, num_classes=10, **_kw)
        h = 64 if "levit" in _arch or "mobilevit" in _arch else 32
        cfg = getattr(m, "pretrained_cfg", {}) or {}
        if _arch.startswith("test_") and cfg.get("input_size"):
            h = cfg["input_size"][-1]
        return randomize_bn(m, 50 + _seed), (image(h=h, seed=50 + _seed),)
    _args = ", ".join(f"{k}={v}" for k, v in _kw.items())
    model(_name, "timm", "classification",
          f"timm.create_model('{_arch}', num_classes=10{', ' if _args else ''}{_args})",
          tier="large" if _name in TIMM_LARGE else "small")(_timm)


@model("timm_mixer", "timm", "classification",
       "timm.models.mlp_mixer.MlpMixer(img_size=32, patch_size=8, num_blocks=2, embed_dim=32) "
       "(mixer_s16_224 at a tiny size)")
def _():
    from timm.models.mlp_mixer import MlpMixer
    return MlpMixer(num_classes=10, img_size=32, patch_size=8, num_blocks=2, embed_dim=32), \
        (image(seed=60),)


@model("timm_poolformer", "timm", "classification",
       "timm.models.metaformer.MetaFormer with poolformer_s12's settings, depths (1,1,1,1), "
       "dims (8,16,32,64)")
def _():
    import torch.nn as nn
    from timm.models.metaformer import GroupNorm1, MetaFormer
    m = MetaFormer(depths=(1, 1, 1, 1), dims=(8, 16, 32, 64), num_classes=10,
                   downsample_norm=None, mlp_act=nn.GELU, mlp_bias=True, norm_layers=GroupNorm1,
                   layer_scale_init_values=0.5, res_scale_init_values=None, use_mlp_head=False)
    return m, (image(seed=61),)


# --------------------------------------------------------------------------------------------
# transformers (tiny configs, random init)
# --------------------------------------------------------------------------------------------
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            vocab_size=128, max_position_embeddings=64)
VOCAB = 128


def hf_encoder(cfg_cls, model_cls, seed, **kw):
    import torch
    torch.manual_seed(seed)
    cfg = cfg_cls(**{**TINY, **kw})
    m = model_cls(cfg)
    ids = token_ids(VOCAB, seed=seed)
    return hf_wrap(m, ["input_ids", "attention_mask"], [ids, padded_mask()])


def hf_decoder(cfg_cls, model_cls, seed, **kw):
    import torch
    torch.manual_seed(seed)
    attn = kw.pop("attn", None)
    cfg = cfg_cls(**kw)
    if attn:
        cfg._attn_implementation = attn
    m = model_cls(cfg)
    ids = token_ids(VOCAB, seed=seed)
    return hf_wrap(m, ["input_ids", "attention_mask"], [ids, torch.ones_like(ids)],
                   use_cache=False)


def hf_seq2seq(cfg_cls, model_cls, seed, **kw):
    import torch
    torch.manual_seed(seed)
    cfg = cfg_cls(**kw)
    m = model_cls(cfg)
    ids = token_ids(VOCAB, seed=seed)
    dec = token_ids(VOCAB, s=5, seed=seed + 1)
    return hf_wrap(m, ["input_ids", "attention_mask", "decoder_input_ids"],
                   [ids, padded_mask(), dec], use_cache=False)


ENCODERS = [
    ("bert", "BertConfig", "BertModel", {}),
    ("bert_mlm", "BertConfig", "BertForMaskedLM", {}),
    ("distilbert", "DistilBertConfig", "DistilBertModel",
     dict(dim=32, n_layers=2, n_heads=2, hidden_dim=64)),
    ("roberta", "RobertaConfig", "RobertaForSequenceClassification", dict(pad_token_id=1)),
    ("albert", "AlbertConfig", "AlbertModel", dict(embedding_size=16)),
    ("electra", "ElectraConfig", "ElectraModel", dict(embedding_size=16)),
    ("deberta_v2", "DebertaV2Config", "DebertaV2Model", dict(max_relative_positions=16)),
    ("mobilebert", "MobileBertConfig", "MobileBertModel",
     dict(embedding_size=16, intra_bottleneck_size=16, true_hidden_size=16,
          num_feedforward_networks=1)),
    ("xlm_roberta", "XLMRobertaConfig", "XLMRobertaModel", dict(pad_token_id=1)),
]
for _i, (_name, _cfg, _cls, _kw) in enumerate(ENCODERS):
    def _enc(_cfg=_cfg, _cls=_cls, _kw=_kw, _seed=100 + _i):
        import transformers
        return hf_encoder(getattr(transformers, _cfg), getattr(transformers, _cls), _seed, **_kw)
    model(f"hf_{_name}", "transformers", "encoder",
          f"transformers.{_cls}({_cfg}(hidden 32, 2 layers, 2 heads, vocab 128)), "
          "padded attention mask")(_enc)

DEC = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
           num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
DECODERS = [
    # sdpa attention: run_decompositions() fails (a view of the transposed attention output)
    ("gpt2_sdpa", "GPT2Config", "GPT2LMHeadModel",
     dict(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=2, n_positions=64, bos_token_id=1,
          eos_token_id=1)),
    ("gpt2", "GPT2Config", "GPT2LMHeadModel",
     dict(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=2, n_positions=64, bos_token_id=1,
          eos_token_id=1, attn="eager")),
    ("llama", "LlamaConfig", "LlamaForCausalLM", DEC),
    ("mistral", "MistralConfig", "MistralForCausalLM", {**DEC, "sliding_window": 4}),
    ("qwen2", "Qwen2Config", "Qwen2ForCausalLM", DEC),
    ("qwen3", "Qwen3Config", "Qwen3ForCausalLM", {**DEC, "head_dim": 8}),
    ("gemma", "GemmaConfig", "GemmaForCausalLM", {**DEC, "head_dim": 8}),
    ("phi", "PhiConfig", "PhiForCausalLM", DEC),
    ("gpt_neox", "GPTNeoXConfig", "GPTNeoXForCausalLM",
     dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
          num_attention_heads=4, max_position_embeddings=64)),
    ("opt", "OPTConfig", "OPTForCausalLM",
     dict(vocab_size=VOCAB, hidden_size=32, ffn_dim=64, num_hidden_layers=2,
          num_attention_heads=2, max_position_embeddings=64, word_embed_proj_dim=32)),
    ("bloom", "BloomConfig", "BloomForCausalLM",
     dict(vocab_size=VOCAB, hidden_size=32, n_layer=2, n_head=2)),
    ("falcon", "FalconConfig", "FalconForCausalLM",
     dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4)),
]
for _i, (_name, _cfg, _cls, _kw) in enumerate(DECODERS):
    def _dec(_cfg=_cfg, _cls=_cls, _kw=_kw, _seed=200 + _i):
        import transformers
        return hf_decoder(getattr(transformers, _cfg), getattr(transformers, _cls), _seed, **_kw)
    model(f"hf_{_name}", "transformers", "decoder",
          f"transformers.{_cls}({_cfg}(hidden 32, 2 layers, vocab 128)), use_cache=False"
          f"{', eager attention' if _kw.get('attn') else ''}")(_dec)

SEQ2SEQ = [
    ("t5", "T5Config", "T5ForConditionalGeneration",
     dict(vocab_size=VOCAB, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
          decoder_start_token_id=0)),
    ("bart", "BartConfig", "BartForConditionalGeneration",
     dict(vocab_size=VOCAB, d_model=32, encoder_layers=2, decoder_layers=2,
          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
          decoder_ffn_dim=64, max_position_embeddings=64)),
    ("marian", "MarianConfig", "MarianMTModel",
     dict(vocab_size=VOCAB, d_model=32, encoder_layers=2, decoder_layers=2,
          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
          decoder_ffn_dim=64, max_position_embeddings=64, pad_token_id=1,
          decoder_start_token_id=1)),
]
for _i, (_name, _cfg, _cls, _kw) in enumerate(SEQ2SEQ):
    def _s2s(_cfg=_cfg, _cls=_cls, _kw=_kw, _seed=300 + _i):
        import transformers
        return hf_seq2seq(getattr(transformers, _cfg), getattr(transformers, _cls), _seed, **_kw)
    model(f"hf_{_name}", "transformers", "encoder-decoder",
          f"transformers.{_cls}({_cfg}(d_model 32, 2+2 layers, vocab 128)), use_cache=False")(_s2s)


@model("hf_vit", "transformers", "encoder",
       "transformers.ViTForImageClassification(ViTConfig(image_size=32, patch_size=8, "
       "hidden 32, 2 layers))")
def _():
    import torch
    import transformers
    torch.manual_seed(400)
    cfg = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=32,
                                 num_hidden_layers=2, num_attention_heads=2,
                                 intermediate_size=64, num_labels=10)
    m = transformers.ViTForImageClassification(cfg)
    return hf_wrap(m, ["pixel_values"], [image(seed=400)])


@model("hf_bert_base", "transformers", "encoder",
       "transformers.BertModel(BertConfig()) at its default (bert-base) size", tier="large")
def _():
    import torch
    import transformers
    torch.manual_seed(401)
    m = transformers.BertModel(transformers.BertConfig())
    ids = token_ids(30522, s=16, seed=401)
    return hf_wrap(m, ["input_ids", "attention_mask"], [ids, padded_mask(s=16)])


# --------------------------------------------------------------------------------------------
# export of one model (child process)
# --------------------------------------------------------------------------------------------
def leaves(x):
    import torch.utils._pytree as pytree
    return pytree.tree_leaves(x)


def close(a, b):
    import torch
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.is_floating_point:
        return torch.allclose(a.double(), b.double(), atol=ATOL, rtol=RTOL)
    return torch.equal(a, b)


def collapsed(t):
    if t.numel() == 0:
        return True
    if t.dtype.is_floating_point:
        t = t.double()
        return not bool(t.abs().max() > MIN_MAG and (t.numel() == 1 or t.std() > MIN_MAG))
    if t.dtype.is_complex:
        return False
    import torch
    if t.dtype == torch.bool:
        return not bool(t.any() and not t.all())
    return not bool((t != 0).any())


def randomize_zero_params(model, seed):
    """Gives every all-zero parameter fan-in scaled normal values (biases: 0.1 * normal)."""
    import torch
    g = gen(seed)
    k = 0
    with torch.no_grad():
        for p in model.parameters():
            if p.numel() and not p.any():
                fan_in = p[0].numel() if p.dim() >= 2 else 100
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / fan_in) ** 0.5)
                k += 1
    return k


def describe(t):
    return f"{str(t.dtype).replace('torch.', '')}{list(t.shape)}"


def node_counts(path):
    z = zipfile.ZipFile(path)
    root = [n for n in z.namelist() if n.endswith("/archive_format")][0].split("/")[0]
    g = json.loads(z.read(f"{root}/models/model.json"))["graph_module"]["graph"]
    targets = Counter()

    def walk(graph):
        for n in graph["nodes"]:
            targets[n["target"]] += 1
            for i in n["inputs"]:
                if "as_graph" in i["arg"]:
                    walk(i["arg"]["as_graph"]["graph"])
    walk(g)
    return sum(targets.values()), targets


def deflate_metadata(path):
    """Rewrites a .pt2 zip with its non-weight members (the program JSON, mostly node metadata)
    deflated; the weight members stay stored, as torch writes them. The JSON is 2-5 KB per
    node and compresses about 10x, so this keeps the committed zoo small; trtfx and
    torch.export.load both read such archives."""
    tmp = path + ".tmp"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            out.external_attr = info.external_attr
            weights = "/data/weights/" in info.filename or "/data/constants/" in info.filename
            out.compress_type = zipfile.ZIP_STORED if weights else zipfile.ZIP_DEFLATED
            dst.writestr(out, data, compresslevel=9)
    os.replace(tmp, path)


def one_line(e):
    s = f"{type(e).__name__}: {e}".strip().splitlines()
    s = s[0] if s else type(e).__name__
    return s[:400]


def export_one(name, out_dir, result_path):
    import torch
    from safetensors.torch import save_file
    torch.set_num_threads(1)
    tier, family, task, source, build = REGISTRY[name]
    res = dict(name=name, family=family, task=task, source=source, tier=tier, notes=[])

    def done(status, err=None):
        res["status"] = status
        if err is not None:
            res["error"] = err
        with open(result_path, "w") as f:
            json.dump(res, f)

    t0 = time.time()
    stage = "build"
    try:
        torch.manual_seed(hash_seed(name))
        m, args = build()
        m.eval()
        res["params"] = int(sum(p.numel() for p in m.parameters()) +
                            sum(b.numel() for b in m.buffers()))
        res["inputs"] = [describe(t) for t in args]
        stage = "export"
        with torch.no_grad():
            eager = leaves(m(*args))
        if any(isinstance(t, torch.Tensor) and collapsed(t) for t in eager):
            # zero-initialised heads (torchvision ViT, timm Mixer) give all-zero logits
            k = randomize_zero_params(m, hash_seed(name) + 1)
            res["notes"].append(f"outputs collapsed with the library's init: re-initialised "
                                f"{k} all-zero parameter(s)")
            with torch.no_grad():
                eager = leaves(m(*args))
        ep = torch.export.export(m, args)
        stage = "core"
        core = ep.run_decompositions()
        stage = "golden"
        os.makedirs(out_dir, exist_ok=True)
        p_t = os.path.join(out_dir, f"{name}.pt2")
        p_c = os.path.join(out_dir, f"{name}.core.pt2")
        torch.export.save(ep, p_t)
        torch.export.save(core, p_c)
        with torch.no_grad():
            out_t = leaves(torch.export.load(p_t).module()(*args))
            out_c = leaves(torch.export.load(p_c).module()(*args))
        if len(out_t) != len(out_c):
            raise RuntimeError(f"{len(out_t)} outputs in export IR, {len(out_c)} in core ATen")
        for i, (a, b, e) in enumerate(zip(out_t, out_c, eager)):
            if not isinstance(a, torch.Tensor):
                raise RuntimeError(f"output {i} is not a tensor: {type(a).__name__}")
            if not close(a, b):
                d = (a.double() - b.double()).abs().max().item() if a.shape == b.shape else "shape"
                res["notes"].append(f"out_{i}: core ATen differs from export IR (max {d})")
            if not close(a, e):
                res["notes"].append(f"out_{i}: export differs from eager")
            if collapsed(a):
                res["notes"].append(f"out_{i}: collapsed magnitude")
        tensors = {f"in_{i}": t.detach().contiguous().clone() for i, t in enumerate(args)}
        tensors.update({f"out_{i}": t.detach().contiguous().clone() for i, t in enumerate(out_t)})
        p_io = os.path.join(out_dir, f"{name}.io.safetensors")
        save_file(tensors, p_io, metadata={
            "info": f"tests/zoo/gen.py, torch {torch.__version__}, outputs of {name}.pt2"})
        os.chmod(p_io, 0o644)
        res["outputs"] = [describe(t) for t in out_t]
        nt, tt = node_counts(p_t)
        nc, tc = node_counts(p_c)
        for p in (p_t, p_c):
            deflate_metadata(p)
        with torch.no_grad():
            again = leaves(torch.export.load(p_t).module()(*args))
        if not all(torch.equal(a, b) for a, b in zip(again, out_t)):
            raise RuntimeError("the deflated archive computes different outputs")
        res["nodes"] = dict(export=nt, core=nc)
        res["bytes"] = {os.path.basename(p): os.path.getsize(p) for p in (p_t, p_c, p_io)}
        res["targets"] = dict(export=dict(sorted(tt.items())), core=dict(sorted(tc.items())))
        res["seconds"] = round(time.time() - t0, 1)
        done("ok")
    except Exception as e:  # noqa: BLE001 -- every failure is recorded, not raised
        traceback.print_exc()
        for f in (f"{name}.pt2", f"{name}.core.pt2", f"{name}.io.safetensors"):
            try:
                os.remove(os.path.join(out_dir, f))
            except FileNotFoundError:
                pass
        done(stage, one_line(e))


def hash_seed(name):
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % 100000


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------
def run_child(name, out_dir, tmp):
    res_path = os.path.join(tmp, f"{name}.json")
    log_path = os.path.join(tmp, f"{name}.log")
    t0 = time.time()
    with open(log_path, "w") as log:
        try:
            p = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name,
                                "--out", out_dir, "--result", res_path],
                               stdout=log, stderr=subprocess.STDOUT, timeout=TIMEOUT_S)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = None
    tier, family, task, source, _ = REGISTRY[name]
    if os.path.exists(res_path):
        with open(res_path) as f:
            res = json.load(f)
    else:
        res = dict(name=name, family=family, task=task, source=source, tier=tier, notes=[],
                   status="timeout" if rc is None else "crash",
                   error=f"no result after {TIMEOUT_S} s" if rc is None else f"exit status {rc}")
    print(f"[{name}] {res['status']} in {time.time() - t0:.0f} s"
          f"{': ' + res['error'] if 'error' in res else ''}", flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tier", choices=sorted(TIERS), default="small")
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--out")
    ap.add_argument("--result")
    a = ap.parse_args()
    if a.child:
        return export_one(a.child, a.out, a.result)
    names = [n for n, v in REGISTRY.items() if v[0] == a.tier]
    if a.only:
        want = a.only.split(",")
        unknown = [n for n in want if n not in REGISTRY]
        if unknown:
            raise SystemExit(f"error: unknown model(s): {', '.join(unknown)}")
        names = [n for n in names if n in want]
    if a.list:
        for n in names:
            print(n, "-", REGISTRY[n][3])
        return 0
    tier = TIERS[a.tier]
    tmp = os.path.join(ROOT, "target", "zoo", "logs")
    os.makedirs(tmp, exist_ok=True)
    t0 = time.time()
    with ThreadPoolExecutor(a.jobs) as pool:
        results = list(pool.map(lambda n: run_child(n, tier["out"], tmp), names))
    manifest = {"models": {}}
    if os.path.exists(tier["manifest"]):
        with open(tier["manifest"]) as f:
            manifest = json.load(f)
    for r in results:
        manifest["models"][r["name"]] = r
    manifest["models"] = dict(sorted(manifest["models"].items()))
    import torch
    import torchvision
    import timm
    import transformers
    manifest["generator"] = dict(script="tests/zoo/gen.py", torch=torch.__version__,
                                 torchvision=torchvision.__version__, timm=timm.__version__,
                                 transformers=transformers.__version__)
    manifest = {"generator": manifest["generator"], "models": manifest["models"]}
    with open(tier["manifest"], "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=False)
        f.write("\n")
    ok = [r for r in manifest["models"].values() if r["status"] == "ok"]
    total = sum(sum(r["bytes"].values()) for r in ok)
    print(f"{len(ok)}/{len(manifest['models'])} models exported, {total / 1e6:.1f} MB, "
          f"{time.time() - t0:.0f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
