from . import retail_exception_ignore
