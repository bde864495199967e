"""(Being written.)"""

from flask import Blueprint

blp = Blueprint("web_referrals", __name__)
