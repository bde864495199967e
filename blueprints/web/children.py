"""(Being written.)"""

from flask import Blueprint

blp = Blueprint("web_children", __name__)
