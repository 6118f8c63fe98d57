from . import retail_backend
from . import threepl_message
from . import threepl_setup
