from services.reporting.app import build_app
from services.reporting.settings import ReportingSettings
from services.runtime.service import serve

settings = ReportingSettings()
serve(build_app(settings), settings)
