"""Does gymforge's PPO (LunarLander-v3 preset) reach a mean return of 200 within 1M env steps? Steps and
wall-clock to the first evaluation over the bar, and the final evaluation; last line JSON.

    nice -n 5 python benchmarks/ppo_lunarlander.py [--seed 0]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ppo_to_bar import main

if __name__ == "__main__":
    main(env="LunarLander-v3", bar=200.0, budget=1_000_000)
