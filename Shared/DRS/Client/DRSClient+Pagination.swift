/// The pages of a paginated DRS operation, fetched lazily by following
/// `nextToken` until DRS returns none.
public struct DRSPages<Page: Sendable>: AsyncSequence, Sendable {
    /// One page.
    public typealias Element = Page

    private let fetch: @Sendable (_ nextToken: String?) async throws -> (page: Page, nextToken: String?)

    /// Creates the sequence from a function fetching the page after `nextToken` (nil: the first).
    public init(fetch: @escaping @Sendable (_ nextToken: String?) async throws -> (page: Page, nextToken: String?)) {
        self.fetch = fetch
    }

    /// Walks the pages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let fetch: @Sendable (String?) async throws -> (page: Page, nextToken: String?)
        fileprivate var nextToken: String?
        fileprivate var finished = false

        /// The next page, or nil after the last.
        public mutating func next() async throws -> Page? {
            guard !finished else { return nil }
            let (page, token) = try await fetch(nextToken)
            nextToken = token
            finished = (token ?? "").isEmpty
            return page
        }
    }

    /// Starts at the first page.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(fetch: fetch)
    }
}

extension DRSClient {
    /// Every page of `DescribeSourceServers` for `request` (its `nextToken` is the starting point).
    public func sourceServerPages(_ request: DescribeSourceServersRequest = .init()) -> DRSPages<DescribeSourceServersResponse> {
        DRSPages { token in
            var page = request
            page.nextToken = token ?? request.nextToken
            let response = try await self.describeSourceServers(page)
            return (response, response.nextToken)
        }
    }

    /// Every page of `DescribeJobs` for `request`.
    public func jobPages(_ request: DescribeJobsRequest = .init()) -> DRSPages<DescribeJobsResponse> {
        DRSPages { token in
            var page = request
            page.nextToken = token ?? request.nextToken
            let response = try await self.describeJobs(page)
            return (response, response.nextToken)
        }
    }

    /// Every page of `DescribeJobLogItems` for `request`.
    public func jobLogPages(_ request: DescribeJobLogItemsRequest) -> DRSPages<DescribeJobLogItemsResponse> {
        DRSPages { token in
            var page = request
            page.nextToken = token ?? request.nextToken
            let response = try await self.describeJobLogItems(page)
            return (response, response.nextToken)
        }
    }

    /// Every page of `DescribeRecoveryInstances` for `request`.
    public func recoveryInstancePages(
        _ request: DescribeRecoveryInstancesRequest = .init()
    ) -> DRSPages<DescribeRecoveryInstancesResponse> {
        DRSPages { token in
            var page = request
            page.nextToken = token ?? request.nextToken
            let response = try await self.describeRecoveryInstances(page)
            return (response, response.nextToken)
        }
    }

    /// All source servers matching `filters`, across pages.
    public func describeAllSourceServers(
        filters: DescribeSourceServersRequestFilters? = nil, pageSize: Int? = nil
    ) async throws -> [SourceServer] {
        var all: [SourceServer] = []
        for try await page in sourceServerPages(DescribeSourceServersRequest(filters: filters, maxResults: pageSize)) {
            all += page.items ?? []
        }
        return all
    }

    /// All jobs matching `filters`, across pages.
    public func describeAllJobs(filters: DescribeJobsRequestFilters? = nil, pageSize: Int? = nil) async throws -> [Job] {
        var all: [Job] = []
        for try await page in jobPages(DescribeJobsRequest(filters: filters, maxResults: pageSize)) {
            all += page.items ?? []
        }
        return all
    }

    /// A job's whole log, across pages.
    public func describeAllJobLogItems(jobID: String, pageSize: Int? = nil) async throws -> [JobLog] {
        var all: [JobLog] = []
        for try await page in jobLogPages(DescribeJobLogItemsRequest(jobID: jobID, maxResults: pageSize)) {
            all += page.items ?? []
        }
        return all
    }

    /// All recovery instances matching `filters`, across pages.
    public func describeAllRecoveryInstances(
        filters: DescribeRecoveryInstancesRequestFilters? = nil, pageSize: Int? = nil
    ) async throws -> [RecoveryInstance] {
        var all: [RecoveryInstance] = []
        for try await page in recoveryInstancePages(DescribeRecoveryInstancesRequest(filters: filters, maxResults: pageSize)) {
            all += page.items ?? []
        }
        return all
    }
}
