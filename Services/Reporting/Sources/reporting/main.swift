import ReportingService
import SamenplanServer

ServiceRuntime.runTasksOnEventLoops()
await ServiceRuntime.main { try Reporting.definition() }
