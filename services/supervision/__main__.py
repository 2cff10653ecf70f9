import gc

from services.runtime.service import serve
from services.supervision.app import build_app
from services.supervision.settings import SupervisionSettings

settings = SupervisionSettings()
app = build_app(settings)
# A batch allocates many short-lived objects (events, records, steps) and few cycles: the
# default thresholds collect so often that arming spends about a third of its CPU in the
# collector (measured: 0.36 → 0.22 ms per armed clock). What exists after start is frozen
# (never traversed again), and young objects are collected 70× less often.
gc.freeze()
gc.set_threshold(*settings.gc_thresholds)
serve(app, settings.host, settings.port)
