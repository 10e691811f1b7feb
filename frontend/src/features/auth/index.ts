export { AccountMenu } from './components/AccountMenu';
export { LoginForm } from './components/LoginForm';
export { RegisterForm } from './components/RegisterForm';
export { restoreSession } from './api/restore';
