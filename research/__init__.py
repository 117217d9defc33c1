"""Market and competitor research workbench: ingest exports, study the category, plan, approve."""

import sys

# jsonschema (under nbformat, used by the study runner and the report) imports rfc3987_syntax
# when installed, which compiles a grammar for ~5 s at import; nbformat never validates IRIs,
# so that format checker is left out for the whole package. (A None entry is how Python
# blocks an import; typeshed types sys.modules values as modules.)
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

__version__ = "0.1.0"
__all__ = ["__version__"]
