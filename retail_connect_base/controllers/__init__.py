from . import main
from . import jobs
