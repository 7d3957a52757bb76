"""Lambda entry points: ``stream.handler`` (the stream function) and ``writer.handler`` (pattern 2's writer)."""
