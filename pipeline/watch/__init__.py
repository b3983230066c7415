"""The watch stage: inbox filter and stability tracker, archive, worker pool, service loop."""
