"""Lambda entry points: ``stream.handler`` and ``queue.handler``."""
