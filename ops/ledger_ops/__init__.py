"""The operator's tools, a package of their own (not shipped in the Lambda zip): ``ledger-ops --help``."""
