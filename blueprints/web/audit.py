"""(Being written.)"""

from flask import Blueprint

blp = Blueprint("web_audit", __name__)
