"""The world model's episode store: real episodes as V and M learn from them, their sideways copies
(--shift-augment), and M's training windows."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch


def shifted(frames: np.ndarray, max_shift: int) -> Iterator[np.ndarray]:
    """An episode's frames (T, C, H, W) moved right by each k in [-max_shift, max_shift] (the episode itself at 0)
    whose columns that would leave the frame hold only background in every frame; the background (each channel's
    most common value) fills the columns that open up.

    The walls stop things: Catch's paddle pushed into a wall stays there. A copy that moved such an episode away
    from that wall would show the paddle stopped by nothing, which the game never does. So something that stays
    put at an edge column from one frame to the next (it may be held there) forbids shifts away from that edge;
    a thing merely passing the edge (the falling ball) moves on and forbids nothing."""
    background = np.array([np.bincount(channel.ravel(), minlength=256).argmax()
                           for channel in frames.swapaxes(0, 1)], dtype=frames.dtype)[:, None, None]  # (C, 1, 1)
    plain = (frames == background).all(axis=(0, 1, 2))  # (W,) columns of background alone
    drawn = (frames != background).any(axis=1)  # (T, H, W) pixels of something
    held = (drawn[1:] & drawn[:-1]).any(axis=(0, 1))  # (W,) columns where something stayed put
    width = frames.shape[-1]
    for k in range(-min(max_shift, width - 1), min(max_shift, width - 1) + 1):
        if k == 0:
            yield frames
        elif (plain[width - k:].all() and not held[0]) if k > 0 else (plain[:-k].all() and not held[-1]):
            moved = np.empty_like(frames)
            moved[...] = background
            if k > 0:
                moved[..., k:] = frames[..., :width - k]
            else:
                moved[..., :k] = frames[..., -k:]
            yield moved


class Episodes:
    """Real episodes: frames (T + 1, C, H, W) uint8, actions (T, ...), rewards (T,), terminated at the end."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []
        self.rewards: list[np.ndarray] = []
        self.terminated: list[bool] = []

    def add(self, frames: list, actions: list, rewards: list, terminated: bool) -> None:
        if actions:
            self.frames.append(np.stack(frames))
            self.actions.append(np.asarray(actions))
            self.rewards.append(np.asarray(rewards, dtype=np.float32))
            self.terminated.append(terminated)

    def all_frames(self) -> np.ndarray:
        return np.concatenate(self.frames)

    def with_shifts(self, max_shift: int) -> Episodes:
        """Every episode followed by its copies moved sideways (see `shifted`); actions, rewards and ends as they
        were."""
        out = Episodes()
        for frames, actions, rewards, terminated in zip(self.frames, self.actions, self.rewards, self.terminated):
            for copy_ in shifted(frames, max_shift):
                out.frames.append(copy_)
                out.actions.append(actions)
                out.rewards.append(rewards)
                out.terminated.append(terminated)
        return out

    def flatten(self, encode: Callable[[np.ndarray], torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
        """Every episode's latents (`encode`'s of its frames), actions and rewards as flat tensors with offsets."""
        lengths = torch.tensor([len(a) for a in self.actions])
        step_start = torch.cumsum(lengths, 0) - lengths
        return {"latents": encode(self.all_frames()), "lengths": lengths, "step_start": step_start,
                "frame_start": step_start + torch.arange(len(lengths)),  # each episode has one frame more
                "actions": torch.as_tensor(np.concatenate(self.actions), device=device),
                "rewards": torch.as_tensor(np.concatenate(self.rewards), device=device),
                "terminated": torch.tensor(self.terminated)}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"frames": torch.from_numpy(np.concatenate(self.frames)),
                "actions": torch.from_numpy(np.concatenate(self.actions)),
                "rewards": torch.from_numpy(np.concatenate(self.rewards)),
                "lengths": torch.tensor([len(a) for a in self.actions]),
                "terminated": torch.tensor(self.terminated)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.__init__()
        frame_start = step_start = 0
        for length, terminated in zip(state["lengths"].tolist(), state["terminated"].tolist()):
            self.frames.append(state["frames"][frame_start:frame_start + length + 1].numpy())
            self.actions.append(state["actions"][step_start:step_start + length].numpy())
            self.rewards.append(state["rewards"][step_start:step_start + length].numpy())
            self.terminated.append(bool(terminated))
            frame_start, step_start = frame_start + length + 1, step_start + length


def sequences(flat: dict[str, torch.Tensor], rng: np.random.Generator, batch_size: int,
              sequence_length: int) -> tuple[torch.Tensor, ...]:
    """A batch of (T, B) training windows for M, gathered at once from `Episodes.flatten()`'s arrays; steps past an
    episode's end repeat its last step and are masked out."""
    lengths = flat["lengths"]
    chosen = torch.from_numpy(rng.choice(len(lengths), size=batch_size, p=(lengths / lengths.sum()).numpy()))
    length = lengths[chosen]  # (B,)
    window = min(sequence_length, int(length.max()))
    start = (torch.from_numpy(rng.random(len(chosen))) * ((length - window).clamp(min=0) + 1)).long()
    count = (length - start).clamp(max=window)  # (B,) real steps in each window
    t = torch.arange(window).unsqueeze(1)  # (T, 1)
    offset = start + torch.minimum(t, count - 1)  # (T, B) step inside the episode
    step, frame = flat["step_start"][chosen] + offset, flat["frame_start"][chosen] + offset
    mask = (t < count).float()
    ends = ((t == count - 1) & (start + count == length) & flat["terminated"][chosen]).float() * mask
    return (flat["latents"][frame], flat["actions"][step], flat["latents"][frame + 1], flat["rewards"][step],
            ends, mask)
