"""(Being written.)"""

from flask import Blueprint

blp = Blueprint("web_notifications", __name__)
