import IntakeService
import SamenplanServer

ServiceRuntime.runTasksOnEventLoops()
await ServiceRuntime.main { try Intake.definition() }
