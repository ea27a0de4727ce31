variable "image_tag" {
  description = "the processor image's tag; a new one builds the image and creates the job again"
  default     = "1.0.0"
}

variable "image_name" {
  description = "the processor image (job-ts: the same processor in TypeScript, with app = \"app-ts\")"
  default     = "job-python"
}

variable "app" {
  description = "the processor's folder next to this one (app: Python, app-ts: TypeScript)"
  default     = "app"
}
