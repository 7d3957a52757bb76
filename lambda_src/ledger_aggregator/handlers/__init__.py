"""Lambda entry points: ``stream.handler`` (the stream function), ``writer.handler`` (pattern 2's writer) and
``events.handler`` (the balance events' enrichment), each built at import from ``composition``."""
