import ReportingService
import SamenplanServer

await ServiceRuntime.main { try Reporting.definition() }
