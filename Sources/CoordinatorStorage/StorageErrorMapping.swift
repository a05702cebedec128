import CoordinatorCore
import Governance
import PostgresKit

/// Turns each back end's errors into the one ``StorageError`` vocabulary the ports promise.
enum StorageErrorMapping {
    static func map(_ error: any Error) -> StorageError {
        if let error = error as? StorageError { return error }
        if error is GovernanceError || error is DecodingError {
            return StorageError(.corruptRow, "a stored row does not decode")
        }
        if let error = error as? SQLiteFileError { return map(error) }
        if let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] {
            return map(sqlState: state, message: error.serverInfo?[.message] ?? "")
        }
        return StorageError(.backend, "database error: \(String(describing: type(of: error)))")
    }

    private static func map(_ error: SQLiteFileError) -> StorageError {
        let message = error.message
        switch error.code {
        case 2067, 1555:  // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
            return StorageError(.duplicate, message)
        case 787:  // SQLITE_CONSTRAINT_FOREIGNKEY
            return StorageError(.missingReference, message)
        case 275, 1299, 3091:  // SQLITE_CONSTRAINT_CHECK, _NOTNULL, _DATATYPE
            return StorageError(.invalidValue, message)
        default:
            guard error.primary == 19 else { return StorageError(.backend, message) }  // SQLITE_CONSTRAINT
            if message.contains("UNIQUE") { return StorageError(.duplicate, message) }
            if message.contains("FOREIGN KEY") { return StorageError(.missingReference, message) }
            return StorageError(.invalidValue, message)
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
