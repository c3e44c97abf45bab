import MusterAPI

extension APIError {
    /// 422 for a planner `ValidationFailure`.
    static func validation(_ failure: ValidationFailure) -> APIError {
        .validation(field: failure.field, rule: failure.rule, failure.message)
    }
}
