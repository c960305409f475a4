// Every document the dashboard sends, as named operations kept in schema/operations/dashboard.
// Importing them as text keeps one source of truth: tests/web/test_operations.py validates the
// same files against the server's schema.
export { default as ProjectList } from "@operations/ProjectList.graphql?raw";
export { default as CreateProject } from "@operations/CreateProject.graphql?raw";
export { default as ProjectBoard } from "@operations/ProjectBoard.graphql?raw";
export { default as CreatePhase } from "@operations/CreatePhase.graphql?raw";
export { default as CreateTask } from "@operations/CreateTask.graphql?raw";
export { default as UpdateTask } from "@operations/UpdateTask.graphql?raw";
export { default as DeleteTask } from "@operations/DeleteTask.graphql?raw";
export { default as TaskDetail } from "@operations/TaskDetail.graphql?raw";
export { default as AddTaskDependency } from "@operations/AddTaskDependency.graphql?raw";
export { default as RemoveTaskDependency } from "@operations/RemoveTaskDependency.graphql?raw";
export { default as TemplateList } from "@operations/TemplateList.graphql?raw";
export { default as TaskWorkflow } from "@operations/TaskWorkflow.graphql?raw";
export { default as ProjectWorkflows } from "@operations/ProjectWorkflows.graphql?raw";
export { default as CreateWorkflowFromTemplate } from "@operations/CreateWorkflowFromTemplate.graphql?raw";
export { default as ExecuteTaskWorkflow } from "@operations/ExecuteTaskWorkflow.graphql?raw";
export { default as CancelWorkflowRun } from "@operations/CancelWorkflowRun.graphql?raw";
export { default as RetryWorkflowRun } from "@operations/RetryWorkflowRun.graphql?raw";
export { default as WorkflowRun } from "@operations/WorkflowRun.graphql?raw";
export { default as WorkflowStats } from "@operations/WorkflowStats.graphql?raw";
export { default as WorkflowRunEvents } from "@operations/WorkflowRunEvents.graphql?raw";
export { default as ProjectEvents } from "@operations/ProjectEvents.graphql?raw";
export { default as ActivityEvents } from "@operations/ActivityEvents.graphql?raw";
