#!/usr/bin/env python3
"""Convolution-bound models for the CPU executor benchmarks (issue 20), exported like the
fixtures: NAME.pt2 (export IR), NAME.core.pt2 (core ATen) and NAME.io.safetensors (in_0 and
out_0 of torch.export.load(NAME.pt2).module()). Random seeded weights; nothing is downloaded.
The archives are not committed: generate them into a build folder and pass them to the
benchmarks with TRTFX_BENCH_EXTRA / EXTRA (see benches/README.md).

    /work/venv-torch/bin/python benches/convnets/gen.py --out /work/target-speed/convnets

Models:
- vgg_small: VGG-11 layout (conv3x3-bn-relu blocks, 8 convolutions, 5 max-pools) at widths
  16..128 on a 1x3x64x64 image, global average pool, linear 10.
- vgg_wide: the same layout at widths 32..256 (more channels, the same small spatial sizes).
- squeezenet_full: torchvision.models.squeezenet1_1(weights=None, num_classes=10), default
  widths, on 1x3x64x64 (as the zoo's large tier `squeezenet1_1.full`).
"""
import argparse
import os

import torch
from safetensors.torch import save_file
from torch import nn

CFGS = {
    "vgg_small": [16, "M", 32, "M", 64, 64, "M", 128, 128, "M", 128, 128, "M"],
    "vgg_wide": [32, "M", 64, "M", 128, 128, "M", 256, 256, "M", 256, 256, "M"],
}


def vgg(cfg):
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            c = v
    m = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))
    # Random running statistics, so eval-mode batchnorm is not the identity.
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.2, 0.2)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(1)
    for i, name in enumerate([*CFGS, "squeezenet_full"]):
        torch.manual_seed(20 + i)
        if name == "squeezenet_full":
            import torchvision
            m = torchvision.models.squeezenet1_1(weights=None, num_classes=10).eval()
        else:
            m = vgg(CFGS[name]).eval()
        args = (torch.randn(1, 3, 64, 64),)
        ep = torch.export.export(m, args)
        p_t = os.path.join(a.out, f"{name}.pt2")
        torch.export.save(ep, p_t)
        torch.export.save(ep.run_decompositions(), os.path.join(a.out, f"{name}.core.pt2"))
        with torch.no_grad():
            out = torch.export.load(p_t).module()(*args)
        save_file({"in_0": args[0].contiguous(), "out_0": out.contiguous()},
                  os.path.join(a.out, f"{name}.io.safetensors"))
        print(name, tuple(out.shape))


if __name__ == "__main__":
    main()
