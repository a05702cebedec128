import CoordinatorCore
import Governance
import PostgresKit
import SQLiteKit

/// Turns each back end's errors into the one ``StorageError`` vocabulary the ports promise.
enum StorageErrorMapping {
    static func map(_ error: any Error) -> StorageError {
        if let error = error as? StorageError { return error }
        if error is GovernanceError || error is DecodingError {
            return StorageError(.corruptRow, "a stored row does not decode")
        }
        if let error = error as? SQLiteError { return map(error) }
        if let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] {
            return map(sqlState: state, message: error.serverInfo?[.message] ?? "")
        }
        return StorageError(.backend, "database error: \(String(describing: type(of: error)))")
    }

    private static func map(_ error: SQLiteError) -> StorageError {
        let message = error.message
        switch error.reason {
        case .constraintUniqueFailed, .constraintPrimaryKeyFailed:
            return StorageError(.duplicate, message)
        case .constraintForeignKeyFailed:
            return StorageError(.missingReference, message)
        case .constraintCheckFailed, .constraintNotNullFailed, .constraintStrictDataTypeFailed:
            return StorageError(.invalidValue, message)
        case .constraint:
            if message.contains("UNIQUE") { return StorageError(.duplicate, message) }
            if message.contains("FOREIGN KEY") { return StorageError(.missingReference, message) }
            return StorageError(.invalidValue, message)
        default:
            return StorageError(.backend, message)
        }
    }

    private static func map(sqlState: String, message: String) -> StorageError {
        switch sqlState {
        case "23505": StorageError(.duplicate, message)
        case "23503": StorageError(.missingReference, message)
        case "23514", "23502", "22001", "22003": StorageError(.invalidValue, message)
        case "40001", "40P01": StorageError(.conflict, message)
        default: StorageError(.backend, "PostgreSQL error \(sqlState): \(message)")
        }
    }
}
