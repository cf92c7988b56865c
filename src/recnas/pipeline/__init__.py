"""The one-command pipeline (issue 4.6): stages, their state, and the runner behind `recnas run`."""

from recnas.pipeline.runner import STAGES
from recnas.pipeline.runner import RunResult
from recnas.pipeline.runner import check_resume
from recnas.pipeline.runner import resolve_out
from recnas.pipeline.runner import run_pipeline
from recnas.pipeline.stages import Stage
from recnas.pipeline.state import PipelineState

__all__ = ["STAGES", "PipelineState", "RunResult", "Stage", "check_resume", "resolve_out", "run_pipeline"]
