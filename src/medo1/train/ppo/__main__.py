"""`python -m medo1.train.ppo` and `accelerate launch -m medo1.train.ppo`."""

from medo1.train.ppo.trainer import main

main()
