"""Built-in task plugins (loaded through the same entry-point path as third-party ones)."""
