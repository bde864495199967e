"""(Being written.)"""

from flask_smorest import Blueprint

blp = Blueprint("reports", __name__, description="(Being written.)")
