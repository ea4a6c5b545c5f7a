"""Stage 1: reasoning trajectories. The teacher's structured replies (`cot`), the verifier-guided
strategy search (`search`, Algorithm 1 of the paper), and the rewrite of a found trajectory into a
complex CoT and a response for SFT (`synthesize`, with what it asks in `synth_replies` and the
answer check in `consistency`)."""
