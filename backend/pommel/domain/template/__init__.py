"""The template language: parse, validate and render parameterised YAML workflow templates.

Pure: nothing here touches storage, the network or the API (``files.validate_paths`` only
reads the files it is asked to check). See ``loader`` for parsing, ``definition`` for
rendering at workflow creation and ``runtime`` for what the runner resolves while running.
"""

from .definition import render_definition
from .files import template_files, validate_paths
from .loader import Lookup, parse_template, validate_source
from .model import (
    PARAMETER_TYPES,
    WORKFLOW_TYPES,
    ContainerSpec,
    HttpSpec,
    OutputSpec,
    ParameterError,
    ParameterProblem,
    ParameterSpec,
    Problem,
    RetryPolicy,
    ScriptSpec,
    StepOutcome,
    StepSpec,
    TaskContext,
    Template,
    TemplateError,
    WorkflowCall,
)
from .parameters import bind_parameters
from .runtime import (
    evaluate_condition,
    mask_secrets,
    parse_markers,
    render_runtime,
    render_step,
    secret_names,
    step_outputs,
)

__all__ = [
    "PARAMETER_TYPES",
    "WORKFLOW_TYPES",
    "ContainerSpec",
    "HttpSpec",
    "Lookup",
    "OutputSpec",
    "ParameterError",
    "ParameterProblem",
    "ParameterSpec",
    "Problem",
    "RetryPolicy",
    "ScriptSpec",
    "StepOutcome",
    "StepSpec",
    "TaskContext",
    "Template",
    "TemplateError",
    "WorkflowCall",
    "bind_parameters",
    "evaluate_condition",
    "mask_secrets",
    "parse_markers",
    "parse_template",
    "render_definition",
    "render_runtime",
    "render_step",
    "secret_names",
    "step_outputs",
    "template_files",
    "validate_paths",
    "validate_source",
]
