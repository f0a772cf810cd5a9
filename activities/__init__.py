"""Activities: every DB write and external call; each write is one transaction with its audit row."""
