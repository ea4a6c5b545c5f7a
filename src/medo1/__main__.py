"""`python -m medo1 ...` (and `accelerate launch -m medo1 run RECIPE --only sft`): the medo1 CLI."""

from medo1.cli import main

if __name__ == "__main__":  # not when a spawned training process imports it
    main()
