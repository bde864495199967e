"""(Being written.)"""

from flask_smorest import Blueprint

blp = Blueprint("notifications", __name__, description="(Being written.)")
