"""The RLHF loop: ranking store, preference export, training and the model registry."""
