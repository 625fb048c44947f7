import BrokerAPIGRPC
import Foundation
import GRPCCore
import GRPCProtobuf
import SwiftProtobuf

/// gRPC server reflection for the gRPC server API (`grpc_api.reflection`): tools such as grpcurl and Postman list
/// the `CentrifugoApi` service and read its schema from the server.
///
/// Served as `grpc.reflection.v1` and as the older `grpc.reflection.v1alpha` that some clients still ask for; their
/// messages are the same on the wire, so one handler with the v1 types serves both. Like Centrifugo's, it needs no
/// API key: it tells only the public schema.
struct GRPCReflectionService: RegistrableRPCService {
    typealias Request = Grpc_Reflection_V1_ServerReflectionRequest
    typealias Response = Grpc_Reflection_V1_ServerReflectionResponse

    static let servedServices = ["centrifugal.centrifugo.api.CentrifugoApi"]
    static let reflectionServices = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]

    /// Every fully qualified name api.proto defines: the service, its methods, messages (nested too) and enums.
    let symbols: Set<String>

    init() {
        var symbols: Set<String> = []
        if let file = try? Google_Protobuf_FileDescriptorProto(serializedBytes: APIDescriptor.fileDescriptorProto) {
            let package = file.package
            func add(_ messages: [Google_Protobuf_DescriptorProto], under prefix: String) {
                for m in messages {
                    let name = prefix + "." + m.name
                    symbols.insert(name)
                    for e in m.enumType { symbols.insert(name + "." + e.name) }
                    add(m.nestedType, under: name)
                }
            }
            add(file.messageType, under: package)
            for e in file.enumType { symbols.insert(package + "." + e.name) }
            for s in file.service {
                let name = package + "." + s.name
                symbols.insert(name)
                for m in s.method { symbols.insert(name + "." + m.name) }
            }
        }
        self.symbols = symbols
    }

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        for service in Self.reflectionServices {
            router.registerHandler(
                forMethod: MethodDescriptor(fullyQualifiedService: service, method: "ServerReflectionInfo"),
                deserializer: ProtobufDeserializer<Request>(),
                serializer: ProtobufSerializer<Response>(),
                handler: { request, _ in
                    StreamingServerResponse { writer in
                        for try await query in request.messages {
                            try await writer.write(answer(query))
                        }
                        return [:]
                    }
                })
        }
    }

    /// The answer to one query; what api.proto does not define is NOT_FOUND, as gRPC's own servers answer.
    func answer(_ query: Request) -> Response {
        var response = Response()
        response.validHost = query.host
        response.originalRequest = query
        switch query.messageRequest {
        case .listServices:
            var list = Grpc_Reflection_V1_ListServiceResponse()
            list.service = Self.servedServices.map { name in
                var s = Grpc_Reflection_V1_ServiceResponse()
                s.name = name
                return s
            }
            response.listServicesResponse = list
        case .fileByFilename(let name) where name == APIDescriptor.fileName:
            response.fileDescriptorResponse = Self.apiFile
        case .fileContainingSymbol(let symbol) where symbols.contains(symbol):
            response.fileDescriptorResponse = Self.apiFile
        case .allExtensionNumbersOfType(let type) where symbols.contains(type):
            // api.proto declares no extensions.
            var numbers = Grpc_Reflection_V1_ExtensionNumberResponse()
            numbers.baseTypeName = type
            response.allExtensionNumbersResponse = numbers
        case .fileByFilename(let what), .fileContainingSymbol(let what), .allExtensionNumbersOfType(let what):
            response.errorResponse = Self.error(.notFound, "\(what) not found")
        case .fileContainingExtension(let e):
            response.errorResponse = Self.error(.notFound, "extension \(e.extensionNumber) of \(e.containingType) not found")
        case nil:
            response.errorResponse = Self.error(.invalidArgument, "empty reflection request")
        }
        return response
    }

    private static var apiFile: Grpc_Reflection_V1_FileDescriptorResponse {
        var r = Grpc_Reflection_V1_FileDescriptorResponse()
        r.fileDescriptorProto = [APIDescriptor.fileDescriptorProto]
        return r
    }

    private static func error(_ code: RPCError.Code, _ message: String) -> Grpc_Reflection_V1_ErrorResponse {
        var e = Grpc_Reflection_V1_ErrorResponse()
        e.errorCode = Int32(code.rawValue)
        e.errorMessage = message
        return e
    }
}
