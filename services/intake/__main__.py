from services.intake.app import build_app
from services.intake.settings import IntakeSettings
from services.runtime.service import serve

settings = IntakeSettings()
serve(build_app(settings), settings)
