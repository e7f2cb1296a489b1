"""Shared test set-up: headless pygame, one torch thread (small networks run fastest that way on 2 cores)."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import torch

torch.set_num_threads(1)
