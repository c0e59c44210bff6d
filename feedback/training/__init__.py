"""Training shaped like TRL: one module per method (sft, reward, dpo, rl), each a config that subclasses
TRL's own and one `train_*` function; the pieces they share sit beside them (data, adapters, runs)."""
