"""Does gymforge's PPO (Pendulum-v1 preset) reach a mean return of -250 within 200k env steps? Steps and
wall-clock to the first evaluation over the bar, and the final evaluation; last line JSON.

    nice -n 5 python benchmarks/ppo_pendulum.py [--seed 0]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ppo_to_bar import main

if __name__ == "__main__":
    main(env="Pendulum-v1", bar=-250.0, budget=200_000)
