import Synchronization

/// The model table in force: read once per request, swapped whole by a reload. A request keeps
/// the table it read (its targets, prices and adapters) to the end.
final class LiveModels: Sendable {
    private let table: Mutex<ModelTable>

    init(_ table: ModelTable) { self.table = Mutex(table) }

    var current: ModelTable { table.withLock { $0 } }

    func replace(with table: ModelTable) { self.table.withLock { $0 = table } }

    func resolve(_ name: String) -> [ModelTable.Target]? { current.resolve(name) }
}
