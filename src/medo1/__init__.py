"""medo1: turn a bank of multiple-choice exam questions into an LLM that reasons before it answers."""

__version__ = "0.1.0"
