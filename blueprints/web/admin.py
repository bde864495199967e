"""(Being written.)"""

from flask import Blueprint

blp = Blueprint("web_admin", __name__)
