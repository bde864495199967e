"""(Being written.)"""

from flask import Blueprint

blp = Blueprint("web_reports", __name__)
